#!/usr/bin/env bash
# x86_64 boot test of an undefined instruction in user mode (user/root-tests `undefined`, the
# program the aarch64 and riscv64 tests run too): `ud2` raises #UD, which the kernel core
# turns into a UserException with number = vector 6 at the faulting PC; with no fault
# handler the root task is suspended and the kernel goes on (PIT ticks).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh x86_64 undefined \
  --panic-pattern "KERNEL PANIC" --panic-pattern "undefined: ERROR" \
  --expect "undefined: executing an undefined instruction (ud2)" \
  --expect "has no fault handler, suspended: user exception 0x6 code 0 (pc 0x40" \
  --expect "kernel: no runnable thread; idling" \
  --expect "timer: 100 ticks"
