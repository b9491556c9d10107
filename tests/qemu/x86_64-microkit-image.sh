#!/usr/bin/env bash
# x86_64: the initialiser module the `microkit` tool builds for microkit-hello boots beside
# the multiboot kernel, and the initialiser finds and decodes the embedded system (the
# tool -> kernel -> initialiser image contract). The PDs then run: x86_64-microkit-hello.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
make --no-print-directory -s -C microkit-hello ARCH=x86_64 >/dev/null
cargo build --quiet --release -p qemu-test
# Microkit's manual QEMU line (scripts/microkit-qemu.sh): -kernel sel4_32.elf -initrd loader.img.
. scripts/microkit-qemu.sh
microkit_qemu x86_64 build/microkit-hello/x86_64/loader.img
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "invalid system description" \
  --panic-pattern "no system attached" \
  --expect "objects, 4 PDs, " -- \
  "${MK_QEMU[@]}"
