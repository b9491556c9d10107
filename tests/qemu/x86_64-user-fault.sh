#!/usr/bin/env bash
# x86_64 boot test: the root task reads an unmapped address. The #PF goes to the kernel core
# as a VMFault (address from CR2, FSR = #PF error code: 0x4 = user read, not present); the
# root task has no fault handler, so the core suspends it and prints a diagnostic with the
# fault address; the kernel then idles and the timer keeps running (LAPIC deadline and PIT
# tick reports afterwards). The task must not get past the faulting read.
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash scripts/boot-test.sh x86_64 fault \
  --panic-pattern "KERNEL PANIC" --panic-pattern "fault: ERROR" \
  --expect "fault: reading unmapped address 0xdead0000" \
  --expect "has no fault handler, suspended: vm fault on data at 0xdead0000 (pc 0x40" \
  --expect "kernel: no runnable thread; idling" \
  --expect "timer: 100 ticks" | tee "$log"
grep -Eq 'suspended: vm fault on data at 0xdead0000 \(pc 0x40[0-9a-f]{4}, fsr 0x4\)$' "$log" \
  || { echo "FAIL: fault line lacks the #PF error code 0x4 (user read, not present)"; exit 1; }
