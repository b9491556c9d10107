#!/usr/bin/env bash
# The Microkit hello system on the hypervisor kernel (docs/hyp.md): builds microkit-hello with
# our SDK as usual (PDs, initialiser, `microkit` tool), gives the `hyp` kernel of
# build/aarch64-hyp (scripts/build-hyp-images.sh) the SDK `debug` configuration plus
# CONFIG_ARM_HYPERVISOR_SUPPORT=1, and packs the system with it (`microkit --override-kernel`)
# into build/aarch64-hyp/microkit-hello.img. The initialiser reads the record the tool copies
# from that kernel and lays out stage-2 VSpaces (8 KiB roots, no 512 GiB-level tables).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="$root/build/aarch64-hyp"
make --no-print-directory -s -C microkit-hello ARCH=aarch64 >/dev/null
[ -f "$out/kernel.elf" ] || bash scripts/build-hyp-images.sh >/dev/null
cp "$out/kernel.elf" "$out/sel4-debug.elf"
target/release/mkimage --option CONFIG_ARM_HYPERVISOR_SUPPORT=1 --set-config debug "$out/sel4-debug.elf" >/dev/null
cd build/microkit-hello/aarch64
MICROKIT_SDK="$root/build/sdk" "$root/build/sdk/bin/microkit" hello.system --board qemu_virt_aarch64 \
  --config debug --override-kernel "$out/sel4-debug.elf" -o "$out/microkit-hello.img" \
  -r "$out/microkit-hello-report.txt" >/dev/null
echo "build-hyp-microkit: $out/microkit-hello.img"
