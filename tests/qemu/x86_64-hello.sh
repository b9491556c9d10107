#!/usr/bin/env bash
# x86_64 boot test: multiboot kernel reaches long mode, the kernel core builds the root task
# (first multiboot module) and enters ring 3; the task prints through seL4_DebugPutChar, its
# seL4_Yield returns, registers and stack survive, and a syscall-free computation longer than
# the 5 ms time slice is interrupted by the LAPIC one-shot deadline the core programmed for the
# budget's end (its report may come before or after the task's lines, so it is checked on the
# whole log); the PIT tick keeps running (100 ticks reported).
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash scripts/boot-test.sh x86_64 hello \
  --panic-pattern "KERNEL PANIC" --panic-pattern "has no fault handler" --panic-pattern "hello: ERROR" \
  --panic-pattern "sel4-root: panic" \
  --expect "x86_64 kernel: booting (multiboot magic 0x2badb002" \
  --expect "loader: segment 0x400000.." \
  --expect "loader: initial task entry 0x4" \
  --expect "go to the kernel core" \
  --expect "x86_64 kernel: entering user mode through the kernel core" \
  --expect "hello from user mode" \
  --expect "hello: bootinfo at 0x4" \
  --expect "hello: yield 3 returned" \
  --expect "hello: registers across yield: fp 0x4045000000000000, int 0x12345678" \
  --expect "hello: stack intact across yield" \
  --expect "hello: computation done" \
  --expect "timer: 100 ticks" | tee "$log"
grep -q "^timer: LAPIC deadline reached at " "$log" || { echo "FAIL: no LAPIC deadline report"; exit 1; }
