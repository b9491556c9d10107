#!/usr/bin/env bash
# RISC-V 64 boot test of a user fault handled by the kernel core: the root task reads an
# unmapped address; the load page fault becomes a seL4 VMFault (address = stval, FSR 5 =
# load access fault, data) for the core, which finds no fault handler and leaves the thread
# Inactive, printing a diagnostic line with the fault address and pc (as seL4's debug kernel
# does), then idles while timer ticks keep coming. The task must not get past the
# faulting read.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 fault \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fault: ERROR" \
  --expect "fault: reading unmapped address 0xdead0000" \
  --expect "has no fault handler, suspended: vm fault on data at 0xdead0000 (pc 0x40" \
  --expect "kernel: no runnable thread; idling" \
  --expect "timer: 10 ticks" \
  --expect "timer: 100 ticks"
