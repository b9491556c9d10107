#!/usr/bin/env bash
# AArch64 boot test of FP/SIMD context switching through the kernel core: the root task
# `fpcheck` starts `fpclobber` as a second thread (own VSpace, seL4 invocations), loads a
# pattern into V0-V31, yields to `fpclobber` (which overwrites V0-V31 until the timer
# preempts it) and checks the pattern survived, five times.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 fp \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fpcheck: ERROR" --panic-pattern "kernel: fault:" \
  --expect "entering user mode through the kernel core" \
  --expect "fpclobber: overwriting V0-V31 forever" \
  --expect "fpcheck: V0-V31 intact across 5 yields"
