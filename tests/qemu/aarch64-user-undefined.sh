#!/usr/bin/env bash
# AArch64 boot test: the root task executes `udf #0`. The kernel core receives a
# UserException (number = ESR_EL1 = 0x2000000: EC 0 "unknown", IL = 1) at the faulting PC;
# the root task has no fault handler, so it is suspended with the core's diagnostic line,
# and the kernel keeps running (idle heartbeat). Execution must not continue past the udf.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 undefined \
  --panic-pattern "KERNEL PANIC" --panic-pattern "undefined: ERROR" \
  --expect "undefined: executing an undefined instruction (udf #0)" \
  --expect "has no fault handler, suspended: user exception 0x2000000 code 0 (pc 0x40" \
  --expect "kernel: no runnable thread; idling" \
  --expect "kernel: heartbeat: tick"
