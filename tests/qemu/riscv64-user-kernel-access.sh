#!/usr/bin/env bash
# RISC-V 64 boot test of the user/kernel split through the kernel core: the kernel window is
# copied into every VSpace root the core creates (Machine::init_vspace_root) but without the
# U bit, so a user read of kernel text must take a load page fault; the core turns it into a
# VMFault, finds no fault handler, suspends the thread and reports it.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 kernel-access \
  --panic-pattern "KERNEL PANIC" --panic-pattern "kernel-access: ERROR" \
  --expect "kernel-access: reading kernel memory at 0xffffffc080200000" \
  --expect "has no fault handler, suspended: vm fault on data at 0xffffffc080200000 (pc 0x40" \
  --expect "timer: 10 ticks"
