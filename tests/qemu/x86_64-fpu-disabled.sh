#!/usr/bin/env bash
# x86_64 boot test of seL4_TCBFlag_fpuDisabled with lazy FPU switching: after the FP
# preservation rounds of `fpcheck` (see x86_64-fp-preserved.sh), the root task starts
# `fpdenied` with TCB_SetFlags(fpuDisabled) and itself as the fault handler; the thread's
# first FP instruction traps, which the kernel must deliver as the UserException for
# #NM (vector 7) instead of handing it the FPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh x86_64 fpcheck \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fpcheck: ERROR" --panic-pattern "fpclobber: ERROR" \
  --panic-pattern "fpdenied: ERROR" --panic-pattern "kernel: fault:" --panic-pattern "sel4-root: panic" \
  --panic-pattern "has no fault handler" \
  --expect "entering user mode through the kernel core" \
  --expect "fpcheck: fpuDisabled thread's FP instruction faulted to its handler: device not available, #NM (user exception 0x7)"
