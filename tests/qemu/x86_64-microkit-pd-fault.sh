#!/usr/bin/env bash
# x86_64: a PD fault is reported by the monitor and the system carries on.
# tests/microkit/pd-fault: 'faulter' reads the unmapped address 0x100ad8 in init(); the
# initialiser (Microkit's monitor) receives the VM fault on its endpoint and prints the PD's
# name and the fault address (CR2) with the page-fault error code (4: user read, not present);
# afterwards the lower-priority client still calls the passive server and prints the answer
# the server computed. The image is the initialiser module booted beside the multiboot kernel.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/microkit/pd-fault/build.sh x86_64 >/dev/null
cargo build --quiet --release -p qemu-test
# Microkit's manual QEMU line (scripts/microkit-qemu.sh): -kernel sel4_32.elf -initrd loader.img.
. scripts/microkit-qemu.sh
microkit_qemu x86_64 build/pd-fault/x86_64/loader.img
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "must not happen" --panic-pattern "kernel: fault" \
  --panic-pattern "initialiser: ERROR" \
  --expect "faulter: reading unmapped address 0x100ad8" \
  --expect "MON|ERROR: faulting PD: faulter" \
  --expect "fault_addr=0x0000000000100ad8  fsr=0x0000000000000004  (data fault)" \
  --expect "client: ppc(6, 7) answered 42" -- \
  "${MK_QEMU[@]}"
