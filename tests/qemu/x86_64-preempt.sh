#!/usr/bin/env bash
# x86_64 boot test of preemption and address-space switching through the kernel core, with two
# threads made by seL4 invocations (user/root-tests `preempt`): the root task retypes a
# VSpace, gives it its own ASID (ASIDPool_Assign), maps copies of its image frame caps there
# at the same addresses (page tables created as the kernel reports them missing) plus a
# private stack, and starts a second thread in it at the same priority with a 5 ms
# round-robin SC (TCB_Configure, SchedControl_ConfigureFlags, TCB_SetSchedParams,
# TCB_WriteRegisters with resume). The second thread never makes a syscall after its first
# line, so each of the root's three yields returns only because the timer preempts it; then
# both threads spin without syscalls, each waiting for the other's counter in a shared data
# page: each "saw" line can only appear if the timer preempted the other thread and the
# kernel switched to the other address space.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh x86_64 preempt \
  --panic-pattern "KERNEL PANIC" --panic-pattern "preempt: ERROR" --panic-pattern "kernel: fault:" \
  --panic-pattern "sel4-root: panic" --panic-pattern "has no fault handler" \
  --expect "x86_64 kernel: entering user mode through the kernel core" \
  --expect "preempt: second thread started: own VSpace and ASID with " \
  --expect "preempt: second thread running (arg 0x5ec0, stack 0x10000000..0x10004000)" \
  --expect "preempt: yield 1 returned" \
  --expect "preempt: yield 2 returned" \
  --expect "preempt: yield 3 returned" \
  --expect "preempt: root saw the second thread's counter reach 2000000" \
  --expect "preempt: second thread saw the root's counter advance by 2000000" \
  --expect "timer: 100 ticks"
