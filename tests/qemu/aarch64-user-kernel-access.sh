#!/usr/bin/env bash
# AArch64 boot test of the kernel/user split: a user task reading the kernel image through
# its upper-half (TTBR1) address gets a data abort, which the kernel core handles as a
# VMFault (reported, task suspended); the read never returns a value.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 kernel-access \
  --panic-pattern "KERNEL PANIC" --panic-pattern "kernel-access: ERROR" \
  --expect "kernel-access: reading kernel memory at 0xffff000040200000" \
  --expect "has no fault handler, suspended: vm fault on data at 0xffff000040200000 (pc 0x40" \
  --expect "kernel: no runnable thread; idling" \
  --expect "kernel: heartbeat: tick"
