#!/usr/bin/env bash
# Per-arch build and QEMU settings, sourced by build-images.sh, run.sh and tests/qemu/*.sh.
# Adding an arch = adding a case here (kernel package, user tasks, QEMU command line).
#
# arch_config ARCH sets:
#   TARGET        rust target triple
#   KERNEL_PKG    cargo package of the kernel binary; KERNEL_BIN its binary name
#   USER_PKGS     cargo packages of the user tasks
#   IMAGES        boot images as NAME=TASK[,TASK...]: build/<arch>/NAME.elf is the kernel with
#                 those user task binaries as its payload (task 0 first). build-images.sh also
#                 writes build/<arch>/kernel.elf, the kernel without payload (panic test).
#   QEMU          QEMU command line up to (not including) the image
#   DEFAULT_IMAGE image `make run` boots
# Environment: QEMU_MEM (RAM size, default 1G), GIC_VERSION (aarch64: 2 or 3).
arch_config() {
  case "$1" in
    aarch64)
      TARGET=aarch64-unknown-none
      KERNEL_PKG=kernel-qemu-virt-aarch64
      KERNEL_BIN=kernel
      USER_PKGS="user-hello user-fault-test"
      IMAGES="hello=hello fault-test=fault-test fault-kernel=fault-kernel preempt=spinner,hello fp=fpcheck,fpclobber"
      QEMU=(qemu-system-aarch64 -machine "virt${GIC_VERSION:+,gic-version=$GIC_VERSION}" -cpu cortex-a53 -m "${QEMU_MEM:-1G}"
            -nographic -semihosting -kernel)
      DEFAULT_IMAGE=hello
      ;;
    riscv64)
      TARGET=riscv64gc-unknown-none-elf
      KERNEL_PKG=kernel-qemu-virt-riscv64
      KERNEL_BIN=kernel-qemu-virt-riscv64
      USER_PKGS="hello-riscv64"
      IMAGES="hello=hello-riscv64 fault-test=hello-riscv64-fault fault-kernel=kernel-access-riscv64 preempt=spinner-riscv64,hello-riscv64"
      QEMU=(qemu-system-riscv64 -machine virt -m 1G -nographic -bios default -kernel)
      DEFAULT_IMAGE=hello
      ;;
    *)
      echo "arch '$1' is not supported yet (supported: aarch64, riscv64)" >&2
      return 1
      ;;
  esac
}
