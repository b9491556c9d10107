#!/usr/bin/env bash
# RISC-V 64 boot test (QEMU virt, OpenSBI): the kernel enables Sv39 in the high half, loads
# the initial task from the boot payload into its own address space and drops to U-mode; the
# task prints through seL4_DebugPutChar, its seL4_Yield calls return with the full register
# file (an FP and a callee-saved register) intact, and timer ticks keep interrupting U-mode.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 hello \
  --expect "riscv64 kernel: hart 0" \
  --expect "task 0: image 0x400000" \
  --expect "hello from user mode" \
  --expect "user: yielded 3 times" \
  --expect "user: registers across yield: ft0 0x4045000000000000, s11 0x12345678" \
  --expect "timer: 10 ticks"
