# Cross-checks shared by tests/qemu/<arch>-bootinfo.sh, sourced after the boot with `log` set to
# its serial log. Parses the slot regions and the untyped summary printed by user/root-tests
# `bootinfo`, checks the retype/copy targets are the first empty slots, and leaves `fail`, `line`,
# `em_s em_e ut_s ut_e` and `n n_ram n_dev ram dev all` for the arch's own checks.
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
