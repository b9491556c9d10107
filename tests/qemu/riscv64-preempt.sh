#!/usr/bin/env bash
# RISC-V 64 boot test of preemption and address-space switching: task 0 (`spinner`) never
# makes a syscall after its first line, so task 1 (`hello`, linked at the same addresses in
# its own Sv39 address space with its own ASID) only runs because the timer tick preempts
# task 0 and the kernel switches satp to task 1's root.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 preempt \
  --expect "task 0: image 0x400000" \
  --expect "task 1: image 0x400000" \
  --expect "spinner: spinning without syscalls" \
  --expect "hello from user mode" \
  --expect "user: registers across yield: ft0 0x4045000000000000, s11 0x12345678" \
  --expect "timer: 10 ticks"
