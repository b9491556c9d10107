#!/usr/bin/env bash
# Per-arch build and QEMU settings, sourced by build-images.sh, run.sh and tests/qemu/*.sh.
# Adding an arch = adding a case here (kernel package, user tasks, QEMU command line).
#
# arch_config ARCH sets:
#   TARGET        rust target triple
#   KERNEL_PKG    cargo package of the kernel binary; KERNEL_BIN its binary name
#   KERNEL_TARGET Rust target of the kernel (aarch64: the soft-float target, so the kernel never
#                 touches FP/SIMD registers and user FP state can be switched lazily); the
#                 kernel ELF is target/$KERNEL_TARGET/release/$KERNEL_BIN
#   KERNEL_RUSTFLAGS (optional) rustc flags for the kernel build only, added to RUSTFLAGS by
#                 build_kernel (cargo keeps the kernel's dependencies built with them apart
#                 from the same crates built for user tasks, so neither rebuilds the other)
#   USER_PKGS     cargo packages of the user tasks (default: user-<name> for each of TASKS)
#   IMAGES        (payload kind) boot images as NAME=TASK[,TASK...]: build/<arch>/NAME.elf is
#                 the kernel with those user task binaries as its payload (task 0 first)
#   TASKS         user task binaries; without IMAGES, one image per task (NAME=TASK)
#   IMAGE_KIND    (optional) payload (default: mkimage packs kernel + tasks into one ELF;
#                 build/<arch>/kernel.elf is the kernel without payload, for the panic test)
#                 or multiboot (kernel32.bin made by llvm-objcopy; tasks copied as modules)
#   QEMU          QEMU command line up to (not including) the image
#   DEFAULT_IMAGE image `make run` boots: NAME (build/<arch>/NAME.elf) or `microkit-hello`
#                 (the Microkit hello system, built by `make -C microkit-hello` with our SDK and
#                 `microkit` tool into build/microkit-hello/<arch>/loader.img)
# Environment: QEMU_MEM (RAM size, default 1G; aarch64 and riscv64), GIC_VERSION (aarch64: 2 or 3).
# The root tasks of the boot tests (user/root-tests), the same programs on every arch.
ROOT_TESTS="hello fault kernel-access undefined halt preempt fpcheck bootinfo"

arch_config() {
  KERNEL_RUSTFLAGS=""
  case "$1" in
    aarch64)
      TARGET=aarch64-unknown-none
      KERNEL_TARGET=aarch64-unknown-none-softfloat
      KERNEL_PKG=kernel-qemu-virt-aarch64
      KERNEL_BIN=kernel
      USER_PKGS="root-tests"
      TASKS="$ROOT_TESTS"
      QEMU=(qemu-system-aarch64 -machine "virt${GIC_VERSION:+,gic-version=$GIC_VERSION}" -cpu cortex-a53 -m "${QEMU_MEM:-1G}"
            -nographic -semihosting -kernel)
      # The Microkit hello system runs end to end here; `make run IMAGE=hello` boots the plain
      # root task that prints `hello from user mode`.
      DEFAULT_IMAGE=microkit-hello
      ;;
    riscv64)
      TARGET=riscv64gc-unknown-none-elf
      KERNEL_TARGET=$TARGET
      KERNEL_PKG=kernel-qemu-virt-riscv64
      KERNEL_BIN=kernel-qemu-virt-riscv64
      USER_PKGS="root-tests"
      TASKS="$ROOT_TESTS"
      QEMU=(qemu-system-riscv64 -machine virt -m "${QEMU_MEM:-1G}" -nographic -bios default -kernel)
      # As on aarch64: the Microkit hello system; `make run ARCH=riscv64 IMAGE=hello` boots the
      # plain root task.
      DEFAULT_IMAGE=microkit-hello
      ;;
    x86_64)
      # Multiboot 1: QEMU -kernel takes the flat kernel image (a.out-kludge header), the
      # initial task is the first module (-initrd), as seL4 boots on x86.
      TARGET=x86_64-unknown-none
      KERNEL_TARGET=$TARGET
      KERNEL_PKG=platform-qemu-x86_64
      KERNEL_BIN=kernel-x86_64
      # Static relocation model: the target's default is position-independent code, which
      # reaches every static of another crate (the kernel window's RAM ranges, the CPU
      # setup, the TSC calibration) through its GOT address first; the kernel is linked at a
      # fixed address (kernel.ld, --no-pie) in the top 2 GiB, which the target's kernel code
      # model addresses directly. Inline threshold 3000 (LLVM's default is 225): with half
      # aarch64's registers every out-of-line call in the kernel core's slowpaths also
      # costs callee-saved pushes and pops; the image grows from about 270 to 410 KiB and
      # the kernel stack's high-water mark stays near 5 KiB (of 32). Together 10-15 % fewer
      # instructions per slowpath operation (docs/bench.md, "x86_64, third pass").
      KERNEL_RUSTFLAGS="-C relocation-model=static -C llvm-args=-inline-threshold=3000"
      USER_PKGS="root-tests"
      TASKS="$ROOT_TESTS"
      IMAGE_KIND=multiboot
      QEMU=(qemu-system-x86_64 -machine q35 -cpu qemu64,+pdpe1gb,+syscall,+lm -m 1G
            -display none -serial mon:stdio -monitor none -nic none -no-reboot
            -device isa-debug-exit,iobase=0xf4,iosize=0x04
            -kernel build/x86_64/kernel32.bin -initrd)
      DEFAULT_IMAGE=microkit-hello
      ;;
    *)
      echo "arch '$1' is not supported (supported: aarch64, riscv64, x86_64)" >&2
      return 1
      ;;
  esac
}

# build_kernel [cargo args...]: build the kernel package of the configured arch (release, with
# KERNEL_RUSTFLAGS); the ELF is target/$KERNEL_TARGET/release/$KERNEL_BIN.
build_kernel() {
  if [ -n "${KERNEL_RUSTFLAGS:-}" ]; then
    RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$KERNEL_RUSTFLAGS" \
      cargo build --quiet --release --target "$KERNEL_TARGET" -p "$KERNEL_PKG" "$@"
  else
    cargo build --quiet --release --target "$KERNEL_TARGET" -p "$KERNEL_PKG" "$@"
  fi
}
