#!/usr/bin/env bash
# x86_64 boot test of the root task's seL4 environment built by the kernel core, with the
# boot-info test written once for every arch (user/root-tests `bootinfo`): slot regions in
# seL4's order, initial cap kinds, the untyped list (aligned, disjoint, untyped caps), the
# extra boot info, Untyped_Retype of an endpoint into the first empty slot, CNode_Copy of it,
# DeleteFirst / FailedLookup error replies, and a frame mapped where two page tables are
# missing (FailedLookup first, then written and read back). The script cross-checks the
# printed numbers (empty region = [end of the untyped region, 4096), counts and bytes, the
# retype/copy targets are the first empty slots).
# On x86_64 the task also takes COM1's ports (X86IOPortControl_Issue), writes a line to the
# UART itself (X86IOPort_In8/Out8) and checks RevokeFirst / IllegalOperation; the untyped
# bytes must match the free RAM and device space the kernel reported.
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash scripts/boot-test.sh x86_64 bootinfo \
  --panic-pattern "KERNEL PANIC" --panic-pattern "bootinfo: ERROR" --panic-pattern "sel4-root: panic" \
  --panic-pattern "has no fault handler" \
  --expect "go to the kernel core" \
  --expect "x86_64 kernel: device region 0x0..0x100000" \
  --expect "node 0 of 1, CNode size bits 12" \
  --expect "bootinfo: slots: paging [" \
  --expect "bootinfo: empty slots [" \
  --expect "bootinfo: slot regions follow seL4's order with no gaps; one schedcontrol cap" \
  --expect "bootinfo: untyped list consistent (aligned, disjoint, caps are untyped)" \
  --expect "bootinfo: retype: endpoint into slot " \
  --expect "bootinfo: retype: into the occupied slot " \
  --expect "bootinfo: copy: slot " \
  --expect "bootinfo: copy: onto the occupied slot " \
  --expect "bootinfo: copy: from the empty slot " \
  --expect "bootinfo: vspace: Page_Map before the tables: error 6; 2 page tables created; frame map error 0; frame paddr 0x" \
  --expect "bootinfo: vspace: wrote and read back 0x5e140000cafe at 0x100000000" \
  --expect "bootinfo: ioport: IOPortControl_Issue 0x3f8..0x3ff into slot " \
  --expect "bootinfo: ioport: issuing an already issued port again: error 9" \
  --expect "bootinfo: ioport: Out8 to port 0x3f7 outside the cap: error 3" \
  --expect "bootinfo: ioport: this line went straight to COM1 through X86IOPortOut8" \
  --expect "bootinfo: done" | tee "$log"
tr -d '\r' <"$log" >"$log.clean"; mv "$log.clean" "$log"
fail() { echo "FAIL: $*"; exit 1; }
line() { grep -a -m1 "$1" "$log" | tr -d '\r' || true; }
empty=$(line "bootinfo: empty slots \[" | sed -n 's/.*\[\([0-9]*\), \([0-9]*\))$/\1 \2/p')
untyped=$(line "bootinfo: slots:" | sed -n 's/.*untyped \[\([0-9]*\), \([0-9]*\))$/\1 \2/p')
read -r em_s em_e <<<"$empty"; read -r ut_s ut_e <<<"$untyped"
[ -n "${em_s:-}" ] && [ -n "${ut_s:-}" ] || fail "could not parse the slot lines"
[ "$em_s" -eq "$ut_e" ] || fail "empty region starts at $em_s, untyped region ends at $ut_e"
[ "$em_e" -eq 4096 ] || fail "empty region ends at $em_e, not 4096"
line "bootinfo: retype: endpoint into slot" | grep -q "slot $em_s: error 0, cap tag 4$" || fail "retype into the first empty slot"
line "bootinfo: retype: into the occupied slot" | grep -q "slot $em_s: error 8$" || fail "retype into an occupied slot must be DeleteFirst"
line "bootinfo: copy: slot" | grep -q "slot $em_s -> slot $((em_s + 1)): error 0, cap tag 4$" || fail "copy"
line "bootinfo: copy: onto the occupied slot" | grep -q "slot $((em_s + 1)): error 8 (DeleteFirst)$" || fail "copy onto an occupied slot must be DeleteFirst"
line "bootinfo: copy: from the empty slot" | grep -q "error 6 (source 1)$" || fail "copy from an empty slot must be FailedLookup (source)"
counts=$(line "bootinfo: untyped: " | sed -n 's/^bootinfo: untyped: \([0-9]*\) caps (\([0-9]*\) RAM, \([0-9]*\) device), \(0x[0-9a-f]*\) bytes RAM, \(0x[0-9a-f]*\) bytes device, \(0x[0-9a-f]*\) bytes in all$/\1 \2 \3 \4 \5 \6/p')
read -r n n_ram n_dev ram dev all <<<"$counts"
[ -n "${n:-}" ] || fail "malformed untyped line"
[ "$n" -eq $((ut_e - ut_s)) ] || fail "$n untypeds listed for a region of $((ut_e - ut_s)) slots"
[ "$n" -eq $((n_ram + n_dev)) ] && [ "$n_ram" -gt 0 ] || fail "untyped counts $n = $n_ram + $n_dev"
(( all == ram + dev )) || fail "total untyped bytes inconsistent"
line=$(grep -a -m1 -E 'free RAM regions \([0-9]+ KiB\) and [0-9]+ device regions \(0x[0-9a-f]+ bytes\)' "$log") \
  || fail "no free RAM line"
free_kib=$(sed -E 's/.*\(([0-9]+) KiB\).*/\1/' <<<"$line")
dev_space=$(sed -E 's/.*device regions \((0x[0-9a-f]+) bytes\).*/\1/' <<<"$line")
free=$((free_kib * 1024))
(( ram <= free && ram + (2 << 20) >= free )) \
  || fail "RAM untyped $ram bytes is not the free RAM $free bytes less the kernel's boot objects (< 2 MiB)"
(( dev == dev_space )) || fail "device untyped $dev bytes != device space $((dev_space))"
echo "x86_64-bootinfo: cross-checks passed (untyped [$ut_s, $ut_e), empty [$em_s, $em_e), $n untypeds, $ram bytes RAM, $dev bytes device)"
