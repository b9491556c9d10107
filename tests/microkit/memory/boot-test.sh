#!/usr/bin/env bash
# Boot test of Microkit's newer memory-region features on ARCH (aarch64, riscv64, x86_64),
# used by tests/qemu/<arch>-microkit-memory.sh. Each expected line can only appear if the
# feature works:
#   prefill    the checksum of blob.bin (fresh random bytes, so it changes every build) over
#              exactly `setvar_prefill_size` bytes, and a zero tail up to the region's end
#              (the region was sized from the file: 5000 bytes -> 0x2000)
#   bootinfo   the FDT chunk (aarch64, riscv64: id 6, magic 0xd00dfeed) or the TSC chunk
#              (x86_64: id 5, 24 bytes) copied from the kernel's extra boot information
#   untypeds   the description lists untypeds whose caps all identify as untyped caps, a
#              notification and a frame retyped from them work (a badged copy signals the
#              notification, and the polled badge is that badge; the frame maps and reads back)
set -euo pipefail
cd "$(dirname "$0")/../../.."
arch="$1"
case "$arch" in
  # Microkit's manual QEMU line (scripts/microkit-qemu.sh).
  aarch64|riscv64) . scripts/microkit-qemu.sh
           microkit_qemu "$arch" "build/microkit-memory/$arch/loader.img"
           qemu=("${MK_QEMU[@]}")
           bootinfo="bootinfo: fdt magic 0xd00dfeed in chunk id 6 (" ;;
  x86_64) . scripts/microkit-qemu.sh
          microkit_qemu "$arch" "build/microkit-memory/$arch/loader.img"
          qemu=("${MK_QEMU[@]}")
          bootinfo="bootinfo: chunk id 5, 20 bytes, tsc " ;;
  *) echo "memory boot test: unsupported arch '$arch'" >&2; exit 1 ;;
esac
bash tests/microkit/memory/build.sh "$arch" >/dev/null
sum="$(cat "build/microkit-memory/$arch/blob.fnv1a")"
cargo build --quiet --release -p qemu-test
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "MON|ERROR" --panic-pattern "kernel: fault" \
  --panic-pattern "initialiser: ERROR" --panic-pattern "FAILED" --panic-pattern "bad prefill" \
  --expect "initialiser: handed " \
  --expect "initialiser: all PDs started" \
  --expect "prefill: 5000 bytes in a 0x2000-byte region, fnv1a64 $sum" \
  --expect "prefill: 0 non-zero bytes after the data" \
  --expect "$bootinfo" \
  --expect "untypeds: cnode cptr 0x400000000000000, slots 1.." \
  --expect "untypeds: slot 1: paddr " \
  --expect "untypeds: all " \
  --expect "untypeds: retyped a notification from slot " \
  --expect "untypeds: poll on the new notification gives badge 0x5a" \
  --expect "untypeds: new frame mapped at 0x20100000 reads back 0x123456789abcdef0" -- \
  "${qemu[@]}"
