#!/usr/bin/env bash
# AArch64 boot test: a user task reads an unmapped address. The kernel reports the data
# abort with the fault address, suspends the task, and keeps running: the timer heartbeat
# is printed twice afterwards. The task must not get past the faulting read.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 fault-test \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fault-test: ERROR" \
  --expect "fault-test: reading unmapped address 0xdead0000" \
  --expect "user fault: data abort at 0xdead0000 (pc 0x40" \
  --expect "kernel: task 0 suspended (no fault handler); no task left, idling" \
  --expect "kernel: heartbeat: tick" \
  --expect "kernel: heartbeat: tick"
