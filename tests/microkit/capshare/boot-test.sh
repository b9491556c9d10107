#!/usr/bin/env bash
# Boot test of Microkit capability sharing (tests/microkit/capshare) on ARCH (aarch64, riscv64,
# x86_64): the system file gives 'boss' the worker's TCB and SC, its own TCB, SC and CSpace, and
# the CNode 'mailbox' that the worker also holds. Each expected line needs a real cap:
#   cap types       DebugCapIdentify sees SC (22), TCB (12) and CNode (10) caps in the slots;
#                   the mailbox's slot 0, named through the directory cptr, is empty (0)
#   suspend         the worker's count stays 1 although it was notified while suspended, its
#                   registers read through its TCB show a pc in its program and sp in its stack
#   SC              Consumed works on both SC caps and fails (IllegalOperation) on a TCB cap
#   resume          the pending notification reaches the worker only after the resume (count 2)
#   CNode           Mint of a badged notification cap into the mailbox, then the seL4 errors for
#                   an occupied slot (DeleteFirst), an empty slot and a slot past the end
#                   (FailedLookup); the worker signals the boss through mailbox slot 3, the boss
#                   moves the cap to slot 4 (slot 3 is then empty) and the worker's signal through
#                   slot 4 arrives; last the boss suspends itself through its own TCB cap.
set -euo pipefail
cd "$(dirname "$0")/../../.."
arch="${1:-aarch64}"
bash tests/microkit/capshare/build.sh "$arch" >/dev/null
cargo build --quiet --release -p qemu-test
img="build/capshare/$arch/loader.img"
case "$arch" in
  # Microkit's manual QEMU line (scripts/microkit-qemu.sh).
  aarch64|riscv64) . scripts/microkit-qemu.sh && microkit_qemu "$arch" "$img" && qemu=("${MK_QEMU[@]}") ;;
  x86_64) . scripts/microkit-qemu.sh && microkit_qemu "$arch" "$img" && qemu=("${MK_QEMU[@]}") ;;
  *) echo "capshare boot test: unsupported arch '$arch'" >&2; exit 1 ;;
esac
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "kernel: fault" --panic-pattern "MON|ERROR" \
  --panic-pattern "ERROR" --panic-pattern "unexpected" --panic-pattern "initialiser: ERROR" \
  --expect "initialiser: all PDs started" \
  --expect "boss: cap types: slot 1 = 22, slot 2 = 12, slot 3 = 22, slot 4 = 12, mailbox cap = 10, mailbox slot 0 = 0" \
  --expect "worker: notified (count 1)" \
  --expect "boss: worker count after a notification: 1" \
  --expect "boss: suspend worker: no error" \
  --expect "boss: worker registers read: pc 0x" \
  --expect "boss: worker count while suspended, after a notification: 1" \
  --expect "boss: Consumed on the worker's SC: ok, on mine: ok, on the worker's TCB: IllegalOperation" \
  --expect "worker: notified (count 2)" \
  --expect "boss: resume worker: no error; worker count now 2" \
  --expect "boss: mint my notification into mailbox slot 3: no error" \
  --expect "boss: mint again into the occupied mailbox slot 3: DeleteFirst" \
  --expect "boss: copy from the empty mailbox slot 7: FailedLookup" \
  --expect "boss: delete mailbox slot 16 (past its end): FailedLookup" \
  --expect "boss: mailbox slot 3 is now cap type 6" \
  --expect "worker: signalling the boss through mailbox slot 3" \
  --expect "boss: notified through mailbox slot 3 (badge bit 5)" \
  --expect "boss: moved mailbox slot 3 to slot 4: no error" \
  --expect "boss: copy from the emptied mailbox slot 3: FailedLookup" \
  --expect "worker: signalling the boss through mailbox slot 4" \
  --expect "boss: notified through mailbox slot 4 (badge bit 5)" \
  --expect "boss: done, suspending myself through my own TCB cap" -- \
  "${qemu[@]}"
