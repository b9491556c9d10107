#!/usr/bin/env bash
# x86_64: Microkit scheduling domains: two spinning PDs in domains A and B take alternate turns
# (the low-priority one runs only in B's slots) and a PD never runs outside its domain; see
# tests/microkit/domains/ and the aarch64 case in tests/microkit/boot-test.sh. The image is
# the initialiser module booted beside our multiboot kernel.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/microkit/domains/build.sh x86_64 >/dev/null
cargo build --quiet --release -p qemu-test
# Microkit's manual QEMU line (scripts/microkit-qemu.sh): -kernel sel4_32.elf -initrd loader.img.
. scripts/microkit-qemu.sh
microkit_qemu x86_64 build/domains/x86_64/loader.img
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "domain violation" --panic-pattern "unexpected" \
  --panic-pattern "kernel: fault" --panic-pattern "MON|ERROR" --panic-pattern "initialiser: ERROR" \
  --expect "initialiser: starting the domain schedule at index 1" \
  --expect "pa: slot 1 (other side had 0)" \
  --expect "pb: slot 1 (other side had 1)" \
  --expect "pa: slot 2 (other side had 1)" \
  --expect "pb: slot 2 (other side had 2)" \
  --expect "pa: slot 3 (other side had 2)" \
  --expect "pb: slot 3 (other side had 3)" \
  --expect "pa: slot 4 (other side had 3)" \
  --expect "pb: slot 4 (other side had 4)" -- \
  "${MK_QEMU[@]}"
