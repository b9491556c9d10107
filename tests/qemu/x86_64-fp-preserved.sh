#!/usr/bin/env bash
# x86_64 boot test of lazy FP context switching through the kernel core, with the FP test
# written once for every arch (user/root-tests `fpcheck`; the registers, here XMM0-15, ST0-7, MXCSR and the x87 control word,
# come from sel4_sys::arch::fp): the root task checks it starts with the initial FP state,
# loads non-default values, starts `fpclobber` (own VSpace and ASID, same priority, seL4
# invocations), which must start with the initial state too; then the root loads a pattern
# and yields while `fpclobber` loads another and spins until the timer preempts it, each
# checking its own pattern and counting only rounds in which the other ran in between. A
# third thread, `intonly`, never uses the FPU and spins alongside. Last, a thread with
# seL4_TCBFlag_fpuDisabled executes an FP instruction, which must reach the root (its fault
# handler) as the UserException for #NM (vector 7).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh x86_64 fpcheck \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fpcheck: ERROR" --panic-pattern "fpclobber: ERROR" \
  --panic-pattern "fpdenied: ERROR" --panic-pattern "kernel: fault:" --panic-pattern "sel4-root: panic" \
  --panic-pattern "has no fault handler" \
  --expect "entering user mode through the kernel core" \
  --expect "fpcheck: root task started with the initial FP state" \
  --expect "fpclobber: started with the initial FP state, not the root's" \
  --expect "fpclobber: xmm0-15, st0-7, MXCSR and FCW intact across 5 preemptions" \
  --expect "fpcheck: xmm0-15, st0-7, MXCSR and FCW intact across " \
  --expect "fpcheck: and intact across " \
  --expect "fpcheck: fpuDisabled thread's FP instruction faulted to its handler: device not available, #NM (user exception 0x7)"
