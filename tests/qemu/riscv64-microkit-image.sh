#!/usr/bin/env bash
# RISC-V 64: the image the `microkit` tool builds for microkit-hello boots, the kernel starts
# the initialiser from it, and the initialiser finds and decodes the embedded system (the
# tool -> kernel -> initialiser image contract). Running the PDs needs the kernel core.
set -euo pipefail
cd "$(dirname "$0")/../.."
make --no-print-directory -s -C microkit-hello ARCH=riscv64 >/dev/null
cargo build --quiet --release -p qemu-test
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "invalid system description" \
  --panic-pattern "no system attached" \
  --expect "objects, 4 PDs, " -- \
  qemu-system-riscv64 -machine virt -m 1G -nographic -bios default \
  -kernel build/microkit-hello/riscv64/loader.img
