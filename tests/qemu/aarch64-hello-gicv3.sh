#!/usr/bin/env bash
# AArch64 boot test on `-machine virt,gic-version=3`: the kernel must detect GICv3 and the
# timer tick must still arrive through it while user mode runs. Also runs with 512 MiB of
# RAM, which the kernel must learn from the DTB.
set -euo pipefail
cd "$(dirname "$0")/../.."
export GIC_VERSION=3 QEMU_MEM=512M
exec bash scripts/boot-test.sh aarch64 hello \
  --expect "kernel: GICv3" \
  --expect "kernel: RAM 0x40000000..0x60000000 (from the DTB at 0x40000000)" \
  --expect "entering user mode through the kernel core" \
  --expect "hello from user mode" \
  --expect "hello: yield 3 returned" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "hello: ERROR" \
  --expect "kernel: timer: 10 ticks while in user mode"
