#!/usr/bin/env bash
# Builds the 4-core Microkit test system (docs/smp.md) with our SDK and `microkit` tool:
#   build/sdk/board/qemu_virt_aarch64/smp-debug/elf/   the SDK's smp-debug configuration: the
#       initialiser and the multicore kernel (scripts/build-smp-images.sh) with Microkit's
#       smp-debug options (debug, CONFIG_MAX_NUM_NODES=4, one domain)
#   build/microkit-smp/aarch64/loader.img (+ report.txt)   hello-smp.system: microkit-hello's
#       PDs on cores 0..3
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"
# SDK (tool, initialiser, uniprocessor kernel) and the hello PDs.
make --no-print-directory -s -C microkit-hello ARCH=aarch64 >/dev/null
bash scripts/build-smp-images.sh aarch64 4 >/dev/null
sdk="$root/build/sdk"
dir="$sdk/board/qemu_virt_aarch64/smp-debug/elf"
mkdir -p "$dir"
cp "$sdk/board/qemu_virt_aarch64/debug/elf/initialiser.elf" "$dir/initialiser.elf"
cp build/aarch64-smp/kernel.elf "$dir/sel4.elf"
target/release/mkimage --option CONFIG_MAX_NUM_NODES=4 --option CONFIG_NUM_DOMAINS=1 \
  --set-config debug "$dir/sel4.elf" >/dev/null
out="$root/build/microkit-smp/aarch64"
mkdir -p "$out"
for pd in server driver client reader; do
  cp "build/microkit-hello/aarch64/$pd.elf" "$out/$pd.elf"
done
cp "$here/hello-smp.system" "$out/hello-smp.system"
cd "$out"
MICROKIT_SDK="$sdk" "$sdk/bin/microkit" hello-smp.system --board qemu_virt_aarch64 \
  --config smp-debug -o "$out/loader.img" -r "$out/report.txt"
