#!/usr/bin/env bash
# x86_64 boot test: multiboot kernel reaches long mode and ring 3; the initial task (first
# multiboot module) prints through seL4_DebugPutChar, its seL4_Yield returns, and the PIT
# timer keeps interrupting user mode (100 ticks reported) and a LAPIC one-shot deadline fires.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh x86_64 hello-x86_64 \
  --panic-pattern "KERNEL PANIC" --panic-pattern "user fault" --panic-pattern "hello: ERROR" \
  --expect "x86_64 kernel: booting (multiboot magic 0x2badb002" \
  --expect "loader: segment 0x400000.." \
  --expect "loader: initial task entry 0x4" \
  --expect "hello from user mode" \
  --expect "hello: yield returned" \
  --expect "hello: sse and stack ok" \
  --expect "timer: LAPIC deadline reached at"
