#!/usr/bin/env bash
# AArch64 boot test of the kernel/user split: a user task reading the kernel image through
# its upper-half (TTBR1) address gets a data abort reported as a user fault; the read never
# returns a value.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 fault-kernel \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fault-kernel: ERROR" \
  --expect "fault-kernel: reading kernel memory at 0xffff000040200000" \
  --expect "user fault: data abort at 0xffff000040200000" \
  --expect "kernel: task 0 suspended (no fault handler); no task left, idling" \
  --expect "kernel: heartbeat: tick"
