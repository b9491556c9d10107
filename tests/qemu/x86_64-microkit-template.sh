#!/usr/bin/env bash
# x86_64: a <template> child PD (no program image) faults into its parent, which loads code
# into their shared region and restarts it there (pd_restart); the code prints its own line,
# computes 3 * nonce + 1 and faults at 0x10; the parent checks it and stops the child
# (pd_stop). See tests/microkit/boot-test.sh (template). The image is the initialiser module
# booted beside the multiboot kernel.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/microkit/template/build.sh x86_64 >/dev/null
cargo build --quiet --release -p qemu-test
# Microkit's manual QEMU line (scripts/microkit-qemu.sh): -kernel sel4_32.elf -initrd loader.img.
. scripts/microkit-qemu.sh
microkit_qemu x86_64 build/template/x86_64/loader.img
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "FAILED" --panic-pattern "MON|ERROR" \
  --panic-pattern "initialiser: ERROR" \
  --expect "initialiser: starting PD 'loadee' (priority 20)" \
  --expect "at ip 0x0 addr 0x0 before any code ran" \
  --expect "restarting the child at 0x280000" \
  --expect "loadee: hello from code its parent loaded at run time" \
  --expect "loader: the loaded code ran: it computed 0x369d0369d035 = 3 * 0x123456789abc + 1 and faulted at 0x10 as planned" \
  --expect "loader: child 0 stopped" -- \
  "${MK_QEMU[@]}"
