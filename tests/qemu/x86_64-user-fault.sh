#!/usr/bin/env bash
# x86_64 boot test: the initial task reads an unmapped address. The kernel reports the page
# fault with address and pc, suspends the task, and keeps running (LAPIC deadline and PIT
# tick reports afterwards). The deadline (armed ~0.5 s) and the 100-tick report race under
# load, so the tick check is the 1000-tick report, which always comes after both.
# The task must not get past the faulting read.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh x86_64 fault-x86_64 \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fault task: ERROR" \
  --expect "fault task: touching unmapped memory" \
  --expect "user fault: page fault (read access, not present) at 0xdead0000 (pc 0x40" \
  --expect "kernel: thread suspended" \
  --expect "timer: LAPIC deadline reached at" \
  --expect "timer: 1000 ticks"
