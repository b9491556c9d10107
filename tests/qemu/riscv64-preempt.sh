#!/usr/bin/env bash
# RISC-V 64 boot test of preemption and address-space switching through the kernel core,
# with two threads made by seL4 invocations: the root task retypes a TCB, an SC, page tables
# and a stack frame, gives a page table its own ASID (ASIDPool_Assign), maps copies of its
# image frame caps into that new VSpace and starts a second thread there at the same
# priority with a 5 ms round-robin SC. Both threads then spin without syscalls, each waiting
# for the other's counter in a shared data page: each line below can only appear if the
# timer preempted the other thread and the kernel switched satp to the other VSpace. (Whether
# the second thread's first line comes before or after the root's "spinning" line is a
# scheduler detail, so only lines whose order is forced are checked in order.)
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 preempt \
  --panic-pattern "KERNEL PANIC" --panic-pattern "preempt: ERROR" --panic-pattern "kernel: fault:" \
  --expect "kernel: root task: image 0x400000" \
  --expect "preempt: second thread configured: own VSpace" \
  --expect "preempt: second thread running (arg 0x5ec0, sp page 0x500000)" \
  --expect "preempt: root saw the second thread's counter reach 2000000" \
  --expect "preempt: second thread saw the root's counter advance by 2000000" \
  --expect "timer: 100 ticks (0 yields)"
