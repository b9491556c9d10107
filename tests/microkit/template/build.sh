#!/usr/bin/env bash
# Builds the template test system for ARCH (default aarch64) with our SDK and `microkit` tool:
# build/template/<arch>/loader.img (+ report.txt). The loader PD is microkit-hello's
# `template_loader` binary; the template child has no program image.
#   tests/microkit/template/build.sh [aarch64|riscv64|x86_64]
# x86_64: boot `-kernel build/sdk/board/x86_64_generic/debug/elf/kernel32.bin -initrd
# build/template/x86_64/loader.img`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
arch="${1:-aarch64}"
case "$arch" in
  aarch64) board=qemu_virt_aarch64; target=aarch64-unknown-none ;;
  riscv64) board=qemu_virt_riscv64; target=riscv64gc-unknown-none-elf ;;
  x86_64) board=x86_64_generic; target=x86_64-unknown-none ;;
  *) echo "template: unsupported arch '$arch' (aarch64, riscv64, x86_64)" >&2; exit 1 ;;
esac
make --no-print-directory -s -C "$root/microkit-hello" ARCH="$arch" sdk pds >/dev/null
out="$root/build/template/$arch"
mkdir -p "$out"
cp "$root/target/$target/release/template_loader" "$out/template_loader.elf"
cp "$here/template.system" "$out/template.system"
cd "$out"
MICROKIT_SDK="$root/build/sdk" "$root/build/sdk/bin/microkit" template.system \
  --board "$board" --config debug -o "$out/loader.img" -r "$out/report.txt"
