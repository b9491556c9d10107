#!/usr/bin/env bash
# RISC-V 64: the image the `microkit` tool builds for microkit-hello boots, the kernel starts
# the initialiser from it, and the initialiser finds and decodes the embedded system (the
# tool -> kernel -> initialiser image contract). The PDs running is riscv64-microkit-hello.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
make --no-print-directory -s -C microkit-hello ARCH=riscv64 >/dev/null
cargo build --quiet --release -p qemu-test
# Microkit's manual QEMU line (scripts/microkit-qemu.sh).
. scripts/microkit-qemu.sh
microkit_qemu riscv64 build/microkit-hello/riscv64/loader.img
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "invalid system description" \
  --panic-pattern "no system attached" \
  --expect "objects, 4 PDs, " -- \
  "${MK_QEMU[@]}"
