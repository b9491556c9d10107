#!/usr/bin/env bash
# RISC-V 64 boot test of a non-memory exception through the kernel core: the root task
# executes an illegal instruction; the trap becomes seL4's UserException with number =
# scause (2, illegal instruction) and code 0; without a fault handler the core suspends the
# thread and reports it; the kernel idles and the timer keeps ticking.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 undefined \
  --panic-pattern "KERNEL PANIC" --panic-pattern "undefined: ERROR" \
  --expect "undefined: executing an undefined instruction (an all-zero instruction word)" \
  --expect "has no fault handler, suspended: user exception 0x2 code 0 (pc 0x40" \
  --expect "kernel: no runnable thread; idling" \
  --expect "timer: 10 ticks"
