#!/usr/bin/env bash
# x86_64 boot test of the root task's seL4 environment built by the kernel core, with the
# boot-info test written once for every arch (user/root-tests `bootinfo`): slot regions in
# seL4's order, initial cap kinds, the untyped list (aligned, disjoint, untyped caps), the
# extra boot info (seL4's x86 chunks in seL4's order: ACPI RSDP, multiboot memory map, TSC
# frequency), Untyped_Retype of an endpoint into the first empty slot, CNode_Copy of it,
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
  --expect "bootinfo: extra bootinfo: chunk id 3 (52 bytes)" \
  --expect "bootinfo: extra bootinfo: chunk id 2 (1220 bytes)" \
  --expect "bootinfo: multiboot memory map: " \
  --expect "bootinfo: RAM untypeds lie within the memory map's RAM" \
  --expect "bootinfo: extra bootinfo: chunk id 5 (20 bytes)" \
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
. scripts/bootinfo-checks.sh
line=$(grep -a -m1 -E 'free RAM regions \([0-9]+ KiB\) and [0-9]+ device regions \(0x[0-9a-f]+ bytes\)' "$log") \
  || fail "no free RAM line"
free_kib=$(sed -E 's/.*\(([0-9]+) KiB\).*/\1/' <<<"$line")
dev_space=$(sed -E 's/.*device regions \((0x[0-9a-f]+) bytes\).*/\1/' <<<"$line")
free=$((free_kib * 1024))
(( ram <= free && ram + (2 << 20) >= free )) \
  || fail "RAM untyped $ram bytes is not the free RAM $free bytes less the kernel's boot objects (< 2 MiB)"
(( dev == dev_space )) || fail "device untyped $dev bytes != device space $((dev_space))"
echo "x86_64-bootinfo: cross-checks passed (untyped [$ut_s, $ut_e), empty [$em_s, $em_e), $n untypeds, $ram bytes RAM, $dev bytes device)"
