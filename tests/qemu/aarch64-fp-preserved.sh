#!/usr/bin/env bash
# AArch64 boot test of lazy FP/SIMD switching through the kernel core: the root task
# `fpcheck` starts `fpclobber` (overwrites V0-V31 until the timer preempts it), `intspin`
# (never uses FP, only yields) and `fpcheck_b` (its own pattern across yields) as threads
# with their own VSpaces, loads a pattern into V0-V31, yields and checks the pattern survived,
# five times; then checks `fpcheck_b`'s rounds; then starts a thread with
# seL4_TCBFlag_fpuDisabled whose FP instruction must reach the root task (its fault handler)
# as a UserException with the FP/SIMD-access ESR (EC 0x07).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 fpcheck \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fpcheck: ERROR" --panic-pattern "fpclobber: ERROR" \
  --panic-pattern "fpdenied: ERROR" --panic-pattern "kernel: fault:" --panic-pattern "sel4-root: panic" \
  --panic-pattern "has no fault handler" \
  --expect "entering user mode through the kernel core" \
  --expect "fpcheck: root task started with the initial FP state" \
  --expect "fpclobber: started with the initial FP state, not the root's" \
  --expect "fpclobber: V0-V31 intact across 5 preemptions" \
  --expect "fpcheck: V0-V31 intact across " \
  --expect "fpcheck: and intact across " \
  --expect "fpcheck: fpuDisabled thread's FP instruction faulted to its handler: FP/SIMD access trap, ESR EC 0x7 (user exception 0x"
