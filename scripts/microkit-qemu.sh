#!/usr/bin/env bash
# The QEMU command line Microkit's manual gives for each board, for an image the `microkit`
# tool wrote with its default --image-type. Sourced by the Microkit boot tests, scripts/run.sh
# and microkit-hello's Makefile (via `bash scripts/microkit-qemu.sh ARCH IMAGE`, which prints it).
#
#   microkit_qemu ARCH IMAGE   sets MK_QEMU (an array: the whole command line)
#
# qemu_virt_aarch64: a raw binary loaded at 0x70000000 by QEMU's generic loader and entered at
#   EL2 (virtualization=on; the kernel drops to EL1), 2 GB of RAM as Microkit's board assumes.
# qemu_virt_riscv64: a uImage loaded with -kernel (OpenSBI is QEMU's default firmware), 2 GB.
# x86_64_generic: the 32-bit kernel ELF the tool writes beside the image (sel4_32.elf) with the
#   image as the first multiboot module, and the manual's CPU flags.
microkit_qemu() {
  local arch="$1" image="$2"
  case "$arch" in
    aarch64)
      MK_QEMU=(qemu-system-aarch64 -machine virt,virtualization=on -cpu cortex-a53 -nographic
               -serial mon:stdio -device "loader,file=$image,addr=0x70000000,cpu-num=0" -m size=2G) ;;
    riscv64)
      MK_QEMU=(qemu-system-riscv64 -machine virt -nographic -serial mon:stdio -kernel "$image"
               -m size=2G) ;;
    x86_64)
      MK_QEMU=(qemu-system-x86_64 -cpu qemu64,+fsgsbase,+pdpe1gb,+xsaveopt,+xsave -m 1G
               -display none -serial mon:stdio -kernel "$(dirname "$image")/sel4_32.elf"
               -initrd "$image") ;;
    *) echo "microkit_qemu: unsupported arch '$arch'" >&2; return 1 ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  microkit_qemu "$1" "$2"
  printf '%q ' "${MK_QEMU[@]}"
  echo
fi
