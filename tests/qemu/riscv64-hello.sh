#!/usr/bin/env bash
# RISC-V 64 boot test through the kernel core: the kernel enables Sv39 in the high half,
# loads the root task from the boot payload into frames and boots the kernel core, which
# builds the root task's CSpace, Sv39 VSpace and bootinfo as seL4 does and makes it current;
# the task prints through seL4_DebugPutChar (handled by the core) and its a0 (the bootinfo
# address; the layout is checked by riscv64-bootinfo.sh), its seL4_Yield calls return with the
# full register file (an FP and a callee-saved register) intact, and timer ticks keep
# interrupting U-mode.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 hello \
  --expect "riscv64 kernel: hart 0" \
  --expect "kernel: root task: image 0x400000.." \
  --expect "kernel: core booted" \
  --expect "hello from user mode" \
  --expect "bootinfo at 0x4" \
  --expect "user: yielded 3 times" \
  --expect "user: registers across yield: ft0 0x4045000000000000, s11 0x12345678" \
  --expect "timer: 10 ticks"
