#!/usr/bin/env bash
# x86_64 boot test: user mode cannot read the kernel image (no user bit in the kernel's
# mappings): the read is a page fault the kernel core receives with FSR = #PF error code 0x5
# (user read, protection violation: the page is present), and the task is suspended.
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash scripts/boot-test.sh x86_64 kernel-access \
  --panic-pattern "KERNEL PANIC" --panic-pattern "kernel-access: ERROR" \
  --expect "kernel-access: reading kernel memory at 0xffffffff80100000" \
  --expect "has no fault handler, suspended: vm fault on data at 0xffffffff80100000 (pc 0x40" \
  --expect "kernel: no runnable thread; idling" | tee "$log"
grep -Eq 'suspended: vm fault on data at 0xffffffff80100000 \(pc 0x40[0-9a-f]{4}, fsr 0x5\)$' "$log" \
  || { echo "FAIL: fault line lacks the #PF error code 0x5 (user read, protection violation)"; exit 1; }
