#!/usr/bin/env bash
# AArch64 boot test of the root task's seL4 environment built by the kernel core, with the
# boot-info test written once for every arch (user/root-tests `bootinfo`): slot regions in
# seL4's order, initial cap kinds, the untyped list (aligned, disjoint, untyped caps), the
# extra boot info, Untyped_Retype of an endpoint into the first empty slot, CNode_Copy of it,
# DeleteFirst / FailedLookup error replies, and a frame mapped where two page tables are
# missing (FailedLookup first, then written and read back). The script cross-checks the
# printed numbers (empty region = [end of the untyped region, 4096), counts and bytes, the
# retype/copy targets are the first empty slots).
# The DTB's memory node must be nearly covered by the RAM untypeds, and the device untypeds
# must cover exactly the MMIO below RAM minus the GIC (0x3f000000 bytes; the PL011 page
# included, as seL4 hands it out).
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash scripts/boot-test.sh aarch64 bootinfo \
  --panic-pattern "KERNEL PANIC" --panic-pattern "bootinfo: ERROR" --panic-pattern "sel4-root: panic" \
  --panic-pattern "has no fault handler" \
  --expect "node 0 of 1, CNode size bits 12" \
  --expect "bootinfo: slots: paging [" \
  --expect "bootinfo: empty slots [" \
  --expect "bootinfo: slot regions follow seL4's order with no gaps; one schedcontrol cap" \
  --expect "bytes RAM, 0x3f000000 bytes device" \
  --expect "bootinfo: untyped list consistent (aligned, disjoint, caps are untyped)" \
  --expect "bootinfo: extra bootinfo: chunk id 6 " \
  --expect "bootinfo: DTB is packed: totalsize " \
  --expect "bootinfo: DTB memory 0x40000000..0x80000000" \
  --expect "bootinfo: RAM untyped covers the DTB's RAM less at most 24 MiB" \
  --expect "bootinfo: retype: endpoint into slot " \
  --expect "bootinfo: retype: into the occupied slot " \
  --expect "bootinfo: copy: slot " \
  --expect "bootinfo: copy: onto the occupied slot " \
  --expect "bootinfo: copy: from the empty slot " \
  --expect "bootinfo: vspace: Page_Map before the tables: error 6; 2 page tables created; frame map error 0; frame paddr 0x" \
  --expect "bootinfo: vspace: wrote and read back 0x5e140000cafe at 0x100000000" \
  --expect "bootinfo: done" | tee "$log"
. scripts/bootinfo-checks.sh
echo "aarch64-bootinfo: cross-checks passed (untyped [$ut_s, $ut_e), empty [$em_s, $em_e), $n untypeds, $ram bytes RAM, $dev bytes device)"
