#!/usr/bin/env bash
# AArch64 boot test of FP/SIMD context switching: `fpcheck` loads a pattern into V0-V31,
# yields to `fpclobber` (which overwrites V0-V31 until the tick preempts it) and checks the
# pattern survived, five times.
# Two independent tasks: still on the kernel's temporary bring-up path (not the kernel core)
# until the core has TCB invocations; the first expected line pins that down.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 fp \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fpcheck: ERROR" \
  --expect "kernel: bring-up path (not the kernel core): 2 payload tasks" \
  --expect "fpclobber: overwriting V0-V31 forever" \
  --expect "fpcheck: V0-V31 intact across 5 yields"
