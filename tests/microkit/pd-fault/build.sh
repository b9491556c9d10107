#!/usr/bin/env bash
# Builds the PD-fault test system for ARCH (default aarch64) with our SDK and `microkit` tool:
# build/pd-fault/<arch>/loader.img (+ report.txt). The PDs are microkit-hello's binaries.
#   tests/microkit/pd-fault/build.sh [aarch64|riscv64|x86_64]
# Boot: qemu-system-<arch> ... -kernel build/pd-fault/<arch>/loader.img (x86_64: the image is
# the initialiser module, booted with `-kernel build/sdk/board/x86_64_generic/debug/elf/
# kernel32.bin -initrd build/pd-fault/x86_64/loader.img`)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
arch="${1:-aarch64}"
case "$arch" in
  aarch64) board=qemu_virt_aarch64 ;;
  riscv64) board=qemu_virt_riscv64 ;;
  x86_64) board=x86_64_generic ;;
  *) echo "pd-fault: unsupported arch '$arch' (aarch64, riscv64, x86_64)" >&2; exit 1 ;;
esac
# SDK (tool, initialiser, kernel) and every microkit-hello PD ELF.
make --no-print-directory -s -C "$root/microkit-hello" ARCH="$arch" sdk pds >/dev/null
out="$root/build/pd-fault/$arch"
mkdir -p "$out"
for pd in server faulter client; do
  cp "$root/build/microkit-hello/$arch/$pd.elf" "$out/$pd.elf"
done
cp "$here/pd-fault.system" "$out/pd-fault.system"
cd "$out"
MICROKIT_SDK="$root/build/sdk" "$root/build/sdk/bin/microkit" pd-fault.system \
  --board "$board" --config debug -o "$out/loader.img" -r "$out/report.txt"
