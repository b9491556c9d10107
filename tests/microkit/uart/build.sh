#!/usr/bin/env bash
# Builds the UART-through-setvar system (aarch64 only) with our SDK and `microkit` tool:
# build/uart/aarch64/loader.img (+ report.txt). The PD binary is microkit-hello's uart-setvar.
#   tests/microkit/uart/build.sh [debug|release]
# Boot: Microkit's manual QEMU line (scripts/microkit-qemu.sh aarch64 build/uart/aarch64/loader.img).
# With `release` the PD is built for Microkit's release configuration (MICROKIT_CONFIG=release,
# in its own target directory so the debug build stays cached) and packed with
# `--config release` into build/uart-release/aarch64.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
arch=aarch64
config="${1:-debug}"
make --no-print-directory -s -C "$root/microkit-hello" ARCH="$arch" sdk >/dev/null
if [ "$config" = debug ]; then
  make --no-print-directory -s -C "$root/microkit-hello" ARCH="$arch" pds >/dev/null
  out="$root/build/uart/$arch"
  elf="$root/target/aarch64-unknown-none/release/uart-setvar"
else
  tdir="$root/target/microkit-$config"
  (cd "$root" && MICROKIT_CONFIG="$config" CARGO_TARGET_DIR="$tdir" \
    cargo build --quiet -p microkit-hello --bin uart-setvar --target aarch64-unknown-none --release)
  out="$root/build/uart-$config/$arch"
  elf="$tdir/aarch64-unknown-none/release/uart-setvar"
fi
mkdir -p "$out"
cp "$elf" "$out/uart-setvar.elf"
cp "$here/uart.system" "$out/uart.system"
cd "$out"
MICROKIT_SDK="$root/build/sdk" "$root/build/sdk/bin/microkit" uart.system \
  --board qemu_virt_aarch64 --config "$config" -o "$out/loader.img" -r "$out/report.txt"
