#!/usr/bin/env bash
# x86_64 boot test: user/noncanonical gives a child thread a non-canonical RIP (by
# TCB_WriteRegisters and by a fault reply) and a non-canonical RSP; the kernel makes a written
# RIP canonical (0, as seL4 does) and lets a bad RSP fault in user mode, so every time the
# child's fault handler (the root task) receives the fault. A kernel that parked the thread
# instead leaves the root task waiting: a missing line and a timeout.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/arch.sh
arch_config x86_64
bash scripts/build-images.sh x86_64 >/dev/null
cargo build --quiet --release --target "$TARGET" -p noncanonical
image="build/x86_64/noncanonical.elf"
cp "target/$TARGET/release/noncanonical" "$image"
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "noncanonical: FAILED" \
  --panic-pattern "sel4-root: panic" --panic-pattern "not resumed" \
  --expect "noncanonical: child configured with a fault endpoint" \
  --expect "noncanonical: bad rip 0x800000000000: handler got VMFault ip 0x0 addr 0x0 prefetch 1" \
  --expect "noncanonical: ReadRegisters: rip 0x0" \
  --expect "noncanonical: bad rsp 0x800000001000: handler got UserException at the push, stack 0x800000001000" \
  --expect "noncanonical: fault reply with ip 0x800000001234: handler got VMFault ip 0x0 addr 0x0" \
  --expect "noncanonical: all steps passed" \
  -- "${QEMU[@]}" "$image"
