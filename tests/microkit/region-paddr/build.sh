#!/usr/bin/env bash
# Builds the region-paddr test system for ARCH (aarch64 or riscv64: boards whose fw_cfg is
# MMIO) with our SDK and `microkit` tool: build/region-paddr/<arch>/loader.img (+ report.txt).
# The PD is microkit-hello's `dma` binary.
#   tests/microkit/region-paddr/build.sh [aarch64|riscv64]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
arch="${1:-aarch64}"
case "$arch" in
  # fw_cfg MMIO page of QEMU's virt machines (hw/arm/virt.c VIRT_FW_CFG, hw/riscv/virt.c).
  aarch64) board=qemu_virt_aarch64; target=aarch64-unknown-none; fw_cfg=0x0902_0000 ;;
  riscv64) board=qemu_virt_riscv64; target=riscv64gc-unknown-none-elf; fw_cfg=0x1010_0000 ;;
  *) echo "region-paddr: unsupported arch '$arch' (aarch64, riscv64)" >&2; exit 1 ;;
esac
make --no-print-directory -s -C "$root/microkit-hello" ARCH="$arch" sdk pds >/dev/null
out="$root/build/region-paddr/$arch"
mkdir -p "$out"
cp "$root/target/$target/release/dma" "$out/dma.elf"
sed "s/FW_CFG_PADDR/$fw_cfg/" "$here/region-paddr.system" > "$out/region-paddr.system"
cd "$out"
MICROKIT_SDK="$root/build/sdk" "$root/build/sdk/bin/microkit" region-paddr.system \
  --board "$board" --config debug -o "$out/loader.img" -r "$out/report.txt"
