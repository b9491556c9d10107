#!/usr/bin/env bash
# Builds the UART-through-setvar system (aarch64 only) with our SDK and `microkit` tool:
# build/uart/aarch64/loader.img (+ report.txt). The PD binary is microkit-hello's uart-setvar.
#   tests/microkit/uart/build.sh
# Boot: Microkit's manual QEMU line (scripts/microkit-qemu.sh aarch64 build/uart/aarch64/loader.img).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
arch=aarch64
make --no-print-directory -s -C "$root/microkit-hello" ARCH="$arch" sdk pds >/dev/null
out="$root/build/uart/$arch"
mkdir -p "$out"
cp "$root/target/aarch64-unknown-none/release/uart-setvar" "$out/uart-setvar.elf"
cp "$here/uart.system" "$out/uart.system"
cd "$out"
MICROKIT_SDK="$root/build/sdk" "$root/build/sdk/bin/microkit" uart.system \
  --board qemu_virt_aarch64 --config debug -o "$out/loader.img" -r "$out/report.txt"
