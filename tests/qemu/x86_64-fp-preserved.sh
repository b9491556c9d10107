#!/usr/bin/env bash
# x86_64 boot test of x87/SSE context switching through the kernel core (the counterpart of
# aarch64-fp-preserved.sh and riscv64-fp-preserved.sh): the root task `fpcheck-x86_64` checks
# it starts with the initial FPU state, loads non-default values into every register, starts
# `fpclobber` as a second thread (same VSpace, own TCB and SC, seL4 invocations), which must
# start with the initial state too; then the root loads a pattern into XMM0-15, ST0-7, MXCSR
# and the x87 control word and yields, while `fpclobber` loads another pattern and spins until
# the timer preempts it; each checks its own pattern survived, counting only rounds in which
# the other thread ran in between. A third thread, `intonly`, never uses x87/SSE and spins
# alongside, so the FPU's lazy switching sees FP and non-FP threads interleave.
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
