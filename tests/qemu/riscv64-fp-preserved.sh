#!/usr/bin/env bash
# RISC-V 64 boot test of lazy FP context switching through the kernel core, with the FP test
# written once for every arch (user/root-tests `fpcheck`; the registers, here f0-f31 and fcsr,
# come from sel4_sys::arch::fp): the root task checks it starts with the initial FP state,
# loads non-default values, starts `fpclobber` (own VSpace and ASID, same priority, seL4
# invocations), which must start with the initial state too; then the root loads a pattern
# and yields while `fpclobber` loads another and spins until the timer preempts it, each
# checking its own pattern and counting only rounds in which the other ran in between. A
# third thread, `intonly`, never uses the FPU and spins alongside. Last, a thread with
# seL4_TCBFlag_fpuDisabled executes an FP instruction, which must reach the root (its fault
# handler) as the UserException for an illegal instruction (scause 2; sstatus.FS Off).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 fpcheck \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fpcheck: ERROR" --panic-pattern "fpclobber: ERROR" \
  --panic-pattern "fpdenied: ERROR" --panic-pattern "kernel: fault:" --panic-pattern "sel4-root: panic" \
  --panic-pattern "has no fault handler" \
  --expect "entering user mode through the kernel core" \
  --expect "fpcheck: root task started with the initial FP state" \
  --expect "fpclobber: started with the initial FP state, not the root's" \
  --expect "fpclobber: f0-f31 and fcsr intact across 5 preemptions" \
  --expect "fpcheck: f0-f31 and fcsr intact across " \
  --expect "fpcheck: and intact across " \
  --expect "fpcheck: fpuDisabled thread's FP instruction faulted to its handler: illegal instruction, scause 2 (user exception 0x2)"
