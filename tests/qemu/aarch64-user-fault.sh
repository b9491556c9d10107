#!/usr/bin/env bash
# AArch64 boot test: the root task reads an unmapped address. The kernel core turns the
# data abort into a VMFault; the root task has no fault handler, so the core suspends it and
# the kernel prints a diagnostic line with the fault address, then keeps running: the timer
# heartbeat is printed twice afterwards. The task must not get past the faulting read.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 fault \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fault: ERROR" \
  --expect "fault: reading unmapped address 0xdead0000" \
  --expect "has no fault handler, suspended: vm fault on data at 0xdead0000 (pc 0x40" \
  --expect "kernel: no runnable thread; idling" \
  --expect "kernel: heartbeat: tick" \
  --expect "kernel: heartbeat: tick"
