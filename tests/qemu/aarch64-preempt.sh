#!/usr/bin/env bash
# AArch64 boot test of preemption and address-space switching through the kernel core: the
# `preempt` root task creates a second thread (`spinner`) with seL4 invocations (Retype of
# VSpace, page tables, frame, TCB and SchedContext; ASIDPool_Assign; Page_Map of copies of
# its image frames; TCB_Configure, SchedControl_ConfigureFlags, TCB_SetSchedParams,
# TCB_WriteRegisters with resume) in its own VSpace and ASID at the same priority. The
# spinner never makes a syscall after printing, so each of the root task's yields can only
# return because the timer preempts the spinner and the kernel switches TTBR0/ASID back.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 preempt \
  --panic-pattern "KERNEL PANIC" --panic-pattern "preempt: ERROR" --panic-pattern "kernel: fault:" \
  --expect "entering user mode through the kernel core" \
  --expect "spinner: spinning without syscalls" \
  --expect "preempt: spinner thread started (TCB slot" \
  --expect "hello from user mode" \
  --expect "hello: yield 1 returned" \
  --expect "hello: yield 2 returned" \
  --expect "hello: yield 3 returned"
