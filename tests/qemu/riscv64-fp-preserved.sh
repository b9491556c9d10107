#!/usr/bin/env bash
# RISC-V 64 boot test of FP context switching through the kernel core (the counterpart of
# aarch64-fp-preserved.sh): the root task `fpcheck-riscv64` starts `fpclobber` as a second
# thread (own VSpace and ASID, seL4 invocations), loads a pattern into f0-f31 and fcsr,
# yields to `fpclobber` (which overwrites f0-f31 and fcsr until the timer preempts it) and
# checks the pattern survived, five times. A third thread, `intonly`, never uses the FPU and
# spins alongside, so the FPU's lazy switching sees FP and non-FP threads interleave.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 fpcheck \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fpcheck: ERROR" --panic-pattern "kernel: fault:" \
  --panic-pattern "fpdenied: ERROR" \
  --expect "entering user mode through the kernel core" \
  --expect "fpclobber: overwriting f0-f31 and fcsr forever" \
  --expect "fpcheck: f0-f31 and fcsr intact across 5 yields" \
  --expect "fpcheck: and intact across "
