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
  --panic-pattern "KERNEL PANIC" --panic-pattern "fpcheck: ERROR" --panic-pattern "kernel: fault:" \
  --expect "entering user mode through the kernel core" \
  --expect "fpclobber: overwriting V0-V31 forever" \
  --expect "fpcheck: V0-V31 intact across 5 yields" \
  --expect "fpcheck: second FP thread intact across" \
  --expect "fpcheck: fpuDisabled thread's FP instruction raised a UserException (ESR "
