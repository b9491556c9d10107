#!/usr/bin/env bash
# RISC-V 64 boot test through the kernel core: the kernel enables Sv39 in the high half,
# loads the root task from the boot payload into frames and boots the kernel core, which
# builds the root task's CSpace, Sv39 VSpace and bootinfo as seL4 does and makes it current;
# the task prints through seL4_DebugPutChar (handled by the core) and its a0 (the bootinfo
# address; the layout is checked by riscv64-bootinfo.sh), its seL4_Yield calls return with the
# full register file (an FP and a callee-saved register) and its stack intact, and timer ticks keep
# interrupting U-mode.
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash scripts/boot-test.sh riscv64 hello \
  --panic-pattern "KERNEL PANIC" --panic-pattern "hello: ERROR" --panic-pattern "sel4-root: panic" \
  --expect "riscv64 kernel: hart 0" \
  --expect "kernel: root task: image 0x400000.." \
  --expect "kernel: core booted" \
  --expect "hello from user mode" \
  --expect "hello: bootinfo at 0x4" \
  --expect "hello: yield 3 returned" \
  --expect "hello: registers across yield: fp 0x4045000000000000, int 0x12345678" \
  --expect "hello: stack intact across yield" \
  --expect "timer: 10 ticks" | tee "$log"
u=$(grep -a -m1 -o 'hello: bootinfo at 0x[0-9a-f]*, IPC buffer 0x[0-9a-f]*' "$log" | sed 's/.*at \(0x[0-9a-f]*\), IPC buffer \(0x[0-9a-f]*\)/\1 \2/')
read -r bi ipc <<<"$u"
[ -n "${ipc:-}" ] && [ $((bi)) -eq $((ipc + 0x1000)) ] || { echo "FAIL: bootinfo '$bi' is not right after the IPC buffer '$ipc'"; exit 1; }
