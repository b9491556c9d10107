#!/usr/bin/env bash
# AArch64 boot test of the kernel panic path: the bare kernel (no boot payload) must print
# a KERNEL PANIC line with the reason and stop QEMU with exit status 1 (semihosting).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 kernel \
  --no-panic-check --expect-exit 1 \
  --expect "KERNEL PANIC: no boot payload"
