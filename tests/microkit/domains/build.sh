#!/usr/bin/env bash
# Builds the scheduling-domain test system for ARCH (default aarch64) with our SDK and
# `microkit` tool: build/domains/<arch>/loader.img (+ report.txt).
#   tests/microkit/domains/build.sh [aarch64|riscv64|x86_64]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
arch="${1:-aarch64}"
case "$arch" in
  aarch64) board=qemu_virt_aarch64; target=aarch64-unknown-none ;;
  riscv64) board=qemu_virt_riscv64; target=riscv64gc-unknown-none-elf ;;
  x86_64) board=x86_64_generic; target=x86_64-unknown-none ;;
  *) echo "domains: unsupported arch '$arch' (aarch64, riscv64, x86_64)" >&2; exit 1 ;;
esac
# SDK (tool, initialiser, kernel), then the spinner PD.
make --no-print-directory -s -C "$root/microkit-hello" ARCH="$arch" sdk >/dev/null
(cd "$root" && cargo build --quiet -p microkit-domains-test --target "$target" --release)
out="$root/build/domains/$arch"
mkdir -p "$out"
cp "$root/target/$target/release/spinner" "$out/spinner.elf"
cp "$here/domains.system" "$out/domains.system"
cd "$out"
MICROKIT_SDK="$root/build/sdk" "$root/build/sdk/bin/microkit" domains.system \
  --board "$board" --config debug -o "$out/loader.img" -r "$out/report.txt"
