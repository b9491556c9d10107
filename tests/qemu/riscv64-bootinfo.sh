#!/usr/bin/env bash
# RISC-V 64 boot test of the root task's environment built by the kernel core: the root task
# reads seL4_BootInfo (slot regions, untyped list, extra bootinfo with the DTB), makes its
# first invocations through seL4_Call (Untyped_Retype of an endpoint, CNode_Copy of it, the
# DeleteFirst/FailedLookup error replies) and maps a frame through two page tables it
# retyped into its own Sv39 VSpace. Besides the fixed lines, the script cross-checks the
# printed numbers: empty region = [end of the untyped region, 4096), the untyped count =
# size of the untyped region, the retype/copy targets are the first empty slots, and the
# device untyped bytes equal what the kernel handed over.
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash scripts/boot-test.sh riscv64 bootinfo \
  --panic-pattern "KERNEL PANIC" --panic-pattern "bootinfo: ERROR" --panic-pattern "user panic" \
  --expect "kernel: core booted" \
  --expect "bootinfo: at 0x" \
  --expect "bootinfo: empty slots [" \
  --expect "untypeds (" \
  --expect "bootinfo: untyped list consistent" \
  --expect "bootinfo: extra bootinfo chunk id 6" \
  --expect "bootinfo: DTB is packed: totalsize " \
  --expect "retype: Untyped_Retype(endpoint) from slot" \
  --expect "retype: into the occupied slot" \
  --expect "copy: CNode_Copy slot" \
  --expect "copy: onto the occupied slot" \
  --expect "copy: from the empty slot" \
  --expect "vspace: retype frame 0 tables 0, map before tables 6 (FailedLookup), table maps 0 0, frame map 0, frame paddr 0x" \
  --expect "vspace: wrote and read back 0x5e140000cafe at 0x100000000" \
  --expect "bootinfo: done" | tee "$log"

fail() { echo "riscv64-bootinfo: FAIL: $*" >&2; exit 1; }
line() { grep -a -m1 "$1" "$log" | tr -d '\r' || true; }
untyped=$(line "bootinfo: slots:" | sed -n 's/.*untyped \[\([0-9]*\), \([0-9]*\)).*/\1 \2/p')
empty=$(line "bootinfo: empty slots" | sed -n 's/.*\[\([0-9]*\), \([0-9]*\)).*/\1 \2/p')
counts=$(line "untypeds (" | sed -n 's/^bootinfo: \([0-9]*\) untypeds (\([0-9]*\) RAM, \([0-9]*\) device).*device \(0x[0-9a-f]*\) bytes.*/\1 \2 \3 \4/p')
kdev=$(line "kernel: core booted" | sed -n 's/.*device regions (\(0x[0-9a-f]*\) bytes).*/\1/p')
read -r ut_s ut_e <<<"$untyped"; read -r em_s em_e <<<"$empty"; read -r n n_ram n_dev dev <<<"$counts"
[ -n "${ut_s:-}" ] && [ -n "${em_s:-}" ] && [ -n "${n:-}" ] && [ -n "$kdev" ] || fail "could not parse the bootinfo lines"
[ "$em_s" -eq "$ut_e" ] || fail "empty region starts at $em_s, untyped region ends at $ut_e"
[ "$em_e" -eq 4096 ] || fail "empty region ends at $em_e, not 4096"
[ "$n" -eq $((ut_e - ut_s)) ] || fail "$n untypeds listed for a region of $((ut_e - ut_s)) slots"
[ "$n" -eq $((n_ram + n_dev)) ] && [ "$n_ram" -gt 0 ] && [ "$n_dev" -gt 0 ] || fail "untyped counts $n = $n_ram + $n_dev"
[ $((dev)) -eq $((kdev)) ] || fail "device untyped bytes $dev, kernel handed over $kdev"
line "retype: Untyped_Retype(endpoint)" | grep -q "into slot $em_s: error 0, cap tag 4$" || fail "retype into the first empty slot"
line "retype: into the occupied slot" | grep -q "slot $em_s: error 8$" || fail "retype into an occupied slot must be DeleteFirst"
line "copy: CNode_Copy slot" | grep -q "slot $em_s -> slot $((em_s + 1)): error 0, cap tag 4$" || fail "copy"
line "copy: onto the occupied slot" | grep -q "slot $((em_s + 1)): error 8$" || fail "copy onto an occupied slot must be DeleteFirst"
line "copy: from the empty slot" | grep -q "error 6 (source 1)$" || fail "copy from an empty slot must be FailedLookup (source)"
echo "riscv64-bootinfo: cross-checks passed (untyped [$ut_s, $ut_e), empty [$em_s, $em_e), $n untypeds, device $dev bytes)"
