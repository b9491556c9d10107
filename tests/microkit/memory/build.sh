#!/usr/bin/env bash
# Builds the memory-region test system for ARCH with our SDK and `microkit` tool:
# build/microkit-memory/<arch>/loader.img (+ report.txt, blob.bin, blob.fnv1a).
#   tests/microkit/memory/build.sh [aarch64|riscv64|x86_64]
# blob.bin is 5000 fresh random bytes each time (so no checksum can be hard-coded); its 64-bit
# FNV-1a is written to blob.fnv1a for the boot test to expect.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
arch="${1:-aarch64}"
system=memory.system
case "$arch" in
  aarch64) board=qemu_virt_aarch64; target=aarch64-unknown-none ;;
  riscv64) board=qemu_virt_riscv64; target=riscv64gc-unknown-none-elf ;;
  x86_64) board=x86_64_generic; target=x86_64-unknown-none; system=memory-x86_64.system ;;
  *) echo "memory: unsupported arch '$arch' (aarch64, riscv64, x86_64)" >&2; exit 1 ;;
esac
# SDK (tool, initialiser, kernel), then this directory's PDs.
make --no-print-directory -s -C "$root/microkit-hello" ARCH="$arch" sdk >/dev/null
cargo build --quiet -p microkit-memory-test --target "$target" --release
out="$root/build/microkit-memory/$arch"
mkdir -p "$out"
for pd in prefill untypeds; do
  cp "$root/target/$target/release/$pd" "$out/$pd.elf"
done
cp "$here/$system" "$out/memory.system"
head -c 5000 /dev/urandom > "$out/blob.bin"
# 64-bit FNV-1a of the file (bash arithmetic wraps modulo 2^64).
h=-3750763034362895579 # 0xcbf29ce484222325
for b in $(od -An -v -tu1 "$out/blob.bin"); do
  h=$(( (h ^ b) * 1099511628211 ))
done
printf '0x%016x\n' "$h" > "$out/blob.fnv1a"
cd "$out"
MICROKIT_SDK="$root/build/sdk" "$root/build/sdk/bin/microkit" memory.system \
  --board "$board" --config debug -o "$out/loader.img" -r "$out/report.txt"
