#!/usr/bin/env bash
# RISC-V 64 boot test of the kernel panic path: the bare kernel (no boot payload) must print
# a KERNEL PANIC line with the reason and the trap CSRs, then stop QEMU with exit status 1
# (sifive_test device).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 kernel \
  --no-panic-check --expect-exit 1 \
  --expect "KERNEL PANIC: panicked at" \
  --expect "no initial task: the image has no boot payload" \
  --expect "scause="
