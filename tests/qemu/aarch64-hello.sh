#!/usr/bin/env bash
# AArch64 boot test (GICv2, QEMU's default): the kernel core builds the root task from the
# boot payload (IPC buffer and bootinfo pages right after the image), the root task prints
# through seL4_DebugPutChar with x0 = bootinfo address, its seL4_Yield calls return through
# the core, and timer ticks reach user mode.
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash scripts/boot-test.sh aarch64 hello \
  --panic-pattern "KERNEL PANIC" --panic-pattern "hello: ERROR" --panic-pattern "sel4-root: panic" \
  --expect "kernel: GICv2" \
  --expect "kernel: RAM 0x40000000..0x80000000 (from the DTB at 0x40000000)" \
  --expect "entry 0x400000, IPC buffer 0x4" \
  --expect "entering user mode through the kernel core" \
  --expect "hello from user mode" \
  --expect "hello: bootinfo at 0x4" \
  --expect "hello: yield 3 returned" \
  --expect "hello: registers across yield: fp 0x4045000000000000, int 0x12345678" \
  --expect "hello: stack intact across yield" \
  --expect "hello: computing without syscalls" \
  --expect "kernel: timer: 10 ticks while in user mode" | tee "$log"
# The addresses the kernel reports are the ones the task received (x0) and found in its boot
# info, and the boot-info page follows the IPC buffer page right after the image.
k=$(grep -a -m1 -o 'IPC buffer 0x[0-9a-f]*, bootinfo 0x[0-9a-f]*' "$log" | sed 's/IPC buffer \(0x[0-9a-f]*\), bootinfo \(0x[0-9a-f]*\)/\1 \2/')
u=$(grep -a -m1 -o 'hello: bootinfo at 0x[0-9a-f]*, IPC buffer 0x[0-9a-f]*' "$log" | sed 's/.*at \(0x[0-9a-f]*\), IPC buffer \(0x[0-9a-f]*\)/\2 \1/')
[ -n "$k" ] && [ "$k" = "$u" ] || { echo "FAIL: kernel reported '$k' (IPC buffer, bootinfo), the task saw '$u'"; exit 1; }
read -r ipc bi <<<"$k"
[ $((bi)) -eq $((ipc + 0x1000)) ] || { echo "FAIL: bootinfo $bi is not right after the IPC buffer $ipc"; exit 1; }
