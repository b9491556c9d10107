#!/usr/bin/env bash
# RISC-V 64 boot test: the initial task reads an unmapped address. The kernel reports the
# load page fault with the address and pc, suspends the task and keeps running: the idle
# loop still takes timer ticks. The task must not get past the faulting read.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 fault-test \
  --panic-pattern "KERNEL PANIC" --panic-pattern "the fault was not caught" \
  --expect "hello from user mode" \
  --expect "user: about to read unmapped address 0xdead0000" \
  --expect "user fault: load page fault at 0xdead0000 (pc 0x40" \
  --expect "bring-up: task 0 suspended" \
  --expect "bring-up: no runnable thread, idling" \
  --expect "timer: 10 ticks" \
  --expect "timer: 100 ticks"
