#!/usr/bin/env bash
# Builds the capability-sharing test system for ARCH (default aarch64) with our SDK and
# `microkit` tool: build/capshare/<arch>/loader.img (+ report.txt).
#   tests/microkit/capshare/build.sh [aarch64|riscv64|x86_64]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
arch="${1:-aarch64}"
case "$arch" in
  aarch64) board=qemu_virt_aarch64; target=aarch64-unknown-none ;;
  riscv64) board=qemu_virt_riscv64; target=riscv64gc-unknown-none-elf ;;
  x86_64) board=x86_64_generic; target=x86_64-unknown-none ;;
  *) echo "capshare: unsupported arch '$arch' (aarch64, riscv64, x86_64)" >&2; exit 1 ;;
esac
# SDK (tool, initialiser, kernel) for this arch, then the two PDs.
make --no-print-directory -s -C "$root/microkit-hello" ARCH="$arch" sdk >/dev/null
cd "$root"
cargo build --quiet -p microkit-capshare-test --target "$target" --release
out="$root/build/capshare/$arch"
mkdir -p "$out"
for pd in boss worker; do
  cp "$root/target/$target/release/$pd" "$out/$pd.elf"
done
cp "$here/capshare.system" "$out/capshare.system"
cd "$out"
MICROKIT_SDK="$root/build/sdk" "$root/build/sdk/bin/microkit" capshare.system \
  --board "$board" --config debug -o "$out/loader.img" -r "$out/report.txt"
