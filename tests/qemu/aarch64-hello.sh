#!/usr/bin/env bash
# AArch64 boot test (GICv2, QEMU's default): the kernel core builds the root task from the
# boot payload (IPC buffer and bootinfo pages right after the image), the root task prints
# through seL4_DebugPutChar with x0 = bootinfo address, its seL4_Yield calls return through
# the core, and timer ticks reach user mode.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 hello \
  --expect "kernel: GICv2" \
  --expect "kernel: RAM 0x40000000..0x80000000 (from the DTB at 0x40000000)" \
  --expect "entry 0x400000, IPC buffer 0x407000, bootinfo 0x408000" \
  --expect "entering user mode through the kernel core" \
  --expect "hello from user mode" \
  --expect "hello: bootinfo at 0x408000" \
  --expect "hello: yield 3 returned" \
  --expect "kernel: timer: 10 ticks while in user mode"
