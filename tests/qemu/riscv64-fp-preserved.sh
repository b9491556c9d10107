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
