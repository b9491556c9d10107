#!/usr/bin/env bash
# RISC-V 64 boot test of the user/kernel split: the kernel window is mapped in every address
# space but without the U bit, so a user read of kernel text must take a load page fault;
# the kernel reports it and suspends the task.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 fault-kernel \
  --panic-pattern "KERNEL PANIC" --panic-pattern "kernel-access: ERROR" \
  --expect "kernel-access: reading kernel address 0xffffffc080200000" \
  --expect "user fault: load page fault at 0xffffffc080200000 (pc 0x40" \
  --expect "bring-up: task 0 suspended" \
  --expect "timer: 10 ticks"
