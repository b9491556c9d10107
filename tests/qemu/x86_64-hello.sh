#!/usr/bin/env bash
# x86_64 boot test: multiboot kernel reaches long mode, the kernel core builds the root task
# (first multiboot module) and enters ring 3; the task prints through seL4_DebugPutChar, its
# seL4_Yield (MCS: gives up the budget until the next period) returns, and a LAPIC one-shot
# deadline the core programmed fires.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh x86_64 hello-x86_64 \
  --panic-pattern "KERNEL PANIC" --panic-pattern "has no fault handler" --panic-pattern "hello: ERROR" \
  --expect "x86_64 kernel: booting (multiboot magic 0x2badb002" \
  --expect "loader: segment 0x400000.." \
  --expect "loader: initial task entry 0x4" \
  --expect "go to the kernel core" \
  --expect "x86_64 kernel: entering user mode through the kernel core" \
  --expect "hello from user mode" \
  --expect "hello: yield returned" \
  --expect "hello: sse and stack ok" \
  --expect "timer: LAPIC deadline reached at"
