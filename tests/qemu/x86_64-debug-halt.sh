#!/usr/bin/env bash
# x86_64 boot test: seL4_DebugHalt from user mode stops QEMU through isa-debug-exit with the
# agreed success status 33 ((0x10 << 1) | 1); a kernel panic would give 35.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/arch.sh
arch_config x86_64
bash scripts/build-images.sh x86_64
log=build/logs/x86_64-debug-halt.serial
mkdir -p build/logs
set +e
timeout "${BOOT_TIMEOUT:-20}" "${QEMU[@]}" build/x86_64/halt.elf </dev/null >"$log" 2>&1
status=$?
set -e
cat "$log"
grep -q "halt: calling seL4_DebugHalt" "$log" || { echo "FAIL: task output missing"; exit 1; }
grep -q "kernel: seL4_DebugHalt, stopping" "$log" || { echo "FAIL: kernel halt line missing"; exit 1; }
if grep -q -e "KERNEL PANIC" -e "ERROR" "$log"; then echo "FAIL: panic/error line"; exit 1; fi
[ "$status" = 33 ] || { echo "FAIL: QEMU exit status $status, expected 33"; exit 1; }
echo "PASS: QEMU exited with status 33"
