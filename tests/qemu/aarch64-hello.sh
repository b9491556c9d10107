#!/usr/bin/env bash
# AArch64 boot test (GICv2, QEMU's default): kernel reaches EL0, the initial task prints
# through seL4_DebugPutChar, its seL4_Yield calls return, and timer ticks preempt user mode.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 hello \
  --expect "kernel: GICv2" \
  --expect "kernel: RAM 0x40000000..0x80000000 (from the DTB at 0x40000000)" \
  --expect "kernel: task 0: image 0x400000" \
  --expect "hello from user mode" \
  --expect "hello: yield 3 returned" \
  --expect "kernel: timer: 10 ticks while in user mode"
