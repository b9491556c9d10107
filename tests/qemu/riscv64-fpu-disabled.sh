#!/usr/bin/env bash
# RISC-V 64 boot test of seL4_TCBFlag_fpuDisabled with lazy FPU switching: after the FP
# preservation rounds of `fpcheck` (see riscv64-fp-preserved.sh), the root task starts
# `fpdenied` with TCB_SetFlags(fpuDisabled) and itself as the fault handler; the thread's
# first FP instruction traps, which the kernel must deliver as the UserException for
# an illegal instruction (scause 2; sstatus.FS Off) instead of handing it the FPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 fpcheck \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fpcheck: ERROR" --panic-pattern "fpclobber: ERROR" \
  --panic-pattern "fpdenied: ERROR" --panic-pattern "kernel: fault:" --panic-pattern "sel4-root: panic" \
  --panic-pattern "has no fault handler" \
  --expect "entering user mode through the kernel core" \
  --expect "fpcheck: fpuDisabled thread's FP instruction faulted to its handler: illegal instruction, scause 2 (user exception 0x2)"
