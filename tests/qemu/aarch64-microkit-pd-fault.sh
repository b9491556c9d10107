#!/usr/bin/env bash
# AArch64: a PD fault is reported by the monitor and the system carries on.
# tests/microkit/pd-fault: 'faulter' reads the unmapped address 0x100ad8 in init(); the
# initialiser (Microkit's monitor) receives the VM fault on its endpoint and prints the PD's
# name and the fault address; afterwards the lower-priority client still calls the passive
# server and prints the answer the server computed. (One expectation per line: the
# 'MON|ERROR: VMFault in PD 'faulter': ip=… fault_addr=0x…100ad8' line is matched by its address.)
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/microkit/pd-fault/build.sh aarch64 >/dev/null
cargo build --quiet --release -p qemu-test
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "must not happen" --panic-pattern "kernel: fault" \
  --expect "faulter: reading unmapped address 0x100ad8" \
  --expect "MON|ERROR: faulting PD: faulter" \
  --expect "fault_addr=0x0000000000100ad8" \
  --expect "client: ppc(6, 7) answered 42" -- \
  qemu-system-aarch64 -machine virt -cpu cortex-a53 -m 1G -nographic -semihosting \
  -kernel build/pd-fault/aarch64/loader.img
