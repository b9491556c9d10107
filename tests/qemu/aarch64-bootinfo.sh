#!/usr/bin/env bash
# AArch64 boot test of the root task's seL4 environment built by the kernel core: the
# `bootinfo` root task reads seL4_BootInfo (slot regions in seL4's order, untypeds, the DTB
# in the extra bootinfo, whose RAM size the RAM untypeds must nearly cover), retypes an
# endpoint into the first empty slot (seL4_Untyped_Retype), copies it (seL4_CNode_Copy),
# checks both with seL4_DebugCapIdentify, and checks that a copy onto an occupied slot fails
# with seL4_DeleteFirst. The device untypeds must cover exactly the MMIO below RAM minus the
# GIC (0x8000000 + 0x37000000 bytes; the PL011 page is included, as seL4 hands it out).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 bootinfo \
  --panic-pattern "KERNEL PANIC" --panic-pattern "bootinfo: ERROR" --panic-pattern "user panic" \
  --expect "node 0 of 1, CNode size bits 12" \
  --expect "bootinfo: slots: image frames " \
  --expect "bootinfo: slot regions follow seL4's order with no gaps; one schedcontrol cap" \
  --expect "bytes RAM, 0x3f000000 bytes device" \
  --expect "bootinfo: extra bootinfo: first chunk id 6 " \
  --expect "bootinfo: DTB is packed: totalsize " \
  --expect "bootinfo: DTB memory 0x40000000..0x80000000" \
  --expect "bootinfo: RAM untyped covers the DTB's RAM less at most 24 MiB" \
  --expect "bootinfo: retype: error 0 (Untyped_Retype of untyped slot " \
  --expect "bootinfo: retype: new cap tag 4 (endpoint) in slot " \
  --expect "bootinfo: copy: error 0, cap tag 4 (endpoint) in slot " \
  --expect "bootinfo: copy onto an occupied slot: error 8 (DeleteFirst)" \
  --expect "bootinfo: done"
