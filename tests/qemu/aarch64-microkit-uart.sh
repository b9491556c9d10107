#!/usr/bin/env bash
# aarch64: a PD maps the PL011 UART page through `setvar_vaddr` (Microkit's setvar example)
# and prints a line by writing the UART's data register itself; the image is the raw binary
# the tool writes by default, booted with Microkit's manual QEMU line (loaded at 0x70000000,
# entered at EL2 with virtualization=on, 2 GB). Checks, in order: the kernel was entered at
# EL2; the PL011 page is in a device untyped the initialiser could retype (the PD starts);
# the PD's own line, which only a working mapping at the patched .bss address can produce.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet --release -p qemu-test
bash tests/microkit/uart/build.sh >/dev/null
. scripts/microkit-qemu.sh
microkit_qemu aarch64 build/uart/aarch64/loader.img
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "MON|ERROR" --panic-pattern "kernel: fault" \
  --panic-pattern "FAILED" --panic-pattern "initialiser: ERROR" \
  --expect "kernel: aarch64 QEMU virt, entered at EL2, running at EL1" \
  --expect "initialiser: all PDs started" \
  --expect "uart: this line went straight to the PL011 mapped at 0x2000000 (debug build)" -- \
  "${MK_QEMU[@]}"
