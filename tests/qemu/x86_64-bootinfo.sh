#!/usr/bin/env bash
# x86_64 boot test of the root task's seL4 environment built by the kernel core: the
# `bootinfo-x86_64` root task reads seL4_BootInfo (empty slot range ending at the CNode size,
# untyped count and bytes), retypes an endpoint into the first empty slot
# (seL4_Untyped_Retype), copies it (seL4_CNode_Copy), checks both with DebugCapIdentify and
# that a copy onto an occupied slot fails with DeleteFirst; then takes COM1's ports with
# X86IOPortControl_Issue (slot 7's cap), writes a line to the UART itself with
# X86IOPort_In8/Out8, and checks the error paths (overlapping issue: RevokeFirst; a port
# outside the cap: IllegalOperation). The script cross-checks the untyped bytes against the
# free RAM and device space the kernel reported handing to the core.
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash scripts/boot-test.sh x86_64 bootinfo-x86_64 \
  --panic-pattern "KERNEL PANIC" --panic-pattern "bootinfo: ERROR" --panic-pattern "user panic" \
  --panic-pattern "has no fault handler" \
  --expect "go to the kernel core" \
  --expect "x86_64 kernel: device region 0x0..0x100000" \
  --expect "node 0 of 1, CNode size bits 12" \
  --expect "bootinfo: empty slots " \
  --expect "bootinfo: untyped: " \
  --expect "bootinfo: retype: error 0, cap tag 4 in slot " \
  --expect "bootinfo: copy: error 0, cap tag 4 in slot " \
  --expect "bootinfo: copy onto an occupied slot: error 8" \
  --expect "bootinfo: ioport: IOPortControl_Issue 0x3f8..0x3ff into slot " \
  --expect "bootinfo: ioport: issuing an already issued port again: error 9" \
  --expect "bootinfo: ioport: Out8 to port 0x3f7 outside the cap: error 3" \
  --expect "bootinfo: ioport: this line went straight to COM1 through X86IOPortOut8" \
  --expect "bootinfo: done" | tee "$log"
tr -d '\r' <"$log" >"$log.clean"; mv "$log.clean" "$log"
fail() { echo "FAIL: $*"; exit 1; }
line=$(grep -m1 -E 'free RAM regions \([0-9]+ KiB\) and [0-9]+ device regions \(0x[0-9a-f]+ bytes\)' "$log") \
  || fail "no free RAM line"
free_kib=$(sed -E 's/.*\(([0-9]+) KiB\).*/\1/' <<<"$line")
dev_space=$(sed -E 's/.*device regions \((0x[0-9a-f]+) bytes\).*/\1/' <<<"$line")
ut=$(grep -m1 -E '^bootinfo: untyped: [0-9]+ caps \([0-9]+ RAM, [0-9]+ device\), 0x[0-9a-f]+ bytes RAM, 0x[0-9a-f]+ bytes device, 0x[0-9a-f]+ bytes in all$' "$log") \
  || fail "malformed untyped line"
ram=$(sed -E 's/.*device\), (0x[0-9a-f]+) bytes RAM.*/\1/' <<<"$ut")
dev=$(sed -E 's/.*bytes RAM, (0x[0-9a-f]+) bytes device.*/\1/' <<<"$ut")
all=$(sed -E 's/.*device, (0x[0-9a-f]+) bytes in all/\1/' <<<"$ut")
free=$((free_kib * 1024))
(( ram <= free && ram + (2 << 20) >= free )) \
  || fail "RAM untyped $ram bytes is not the free RAM $free bytes less the kernel's boot objects (< 2 MiB)"
(( dev == dev_space )) || fail "device untyped $dev bytes != device space $((dev_space))"
(( all == ram + dev )) || fail "total untyped bytes inconsistent"
empty=$(grep -m1 -E '^bootinfo: empty slots [0-9]+\.\.4096$' "$log") || fail "empty region does not end at 4096"
first_empty=$(sed -E 's/.*slots ([0-9]+)\.\..*/\1/' <<<"$empty")
grep -q "bootinfo: retype: error 0, cap tag 4 in slot $first_empty " "$log" || fail "retype not into the first empty slot"
echo "PASS: untyped bytes match the memory the kernel handed to the core; retype/copy/IOPort lines seen"
