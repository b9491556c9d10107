#!/usr/bin/env bash
# aarch64: the UART-through-setvar PD built for Microkit's release configuration
# (MICROKIT_CONFIG=release) and packed with `--config release`: the kernel has no
# DebugPutChar there (CONFIG_PRINTING=0), so the PD library's debug output and the
# initialiser's must print nothing instead of faulting, as libmicrokit's microkit_dbg_puts does;
# the PD's line written to the PL011 itself shows it ran past its debug_println (a fault there
# would stop it), and that its invocations used the release kernel's label numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet --release -p qemu-test
bash tests/microkit/uart/build.sh release >/dev/null
. scripts/microkit-qemu.sh
microkit_qemu aarch64 build/uart-release/aarch64/loader.img
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "MON|ERROR" --panic-pattern "kernel: fault" \
  --panic-pattern "FAILED" --panic-pattern "initialiser: ERROR" --panic-pattern "uart: built for" \
  --expect "uart: this line went straight to the PL011 mapped at 0x2000000 (release build)" -- \
  "${MK_QEMU[@]}"
