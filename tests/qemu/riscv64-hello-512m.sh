#!/usr/bin/env bash
# RISC-V 64 boot test with 512 MiB of RAM (the RAM part of aarch64-hello-gicv3.sh; riscv64
# `virt` has one interrupt controller, the PLIC): the kernel must learn the RAM size from the
# DTB (which OpenSBI passes at the top of the smaller RAM), hand only that RAM to the root task,
# and the root task and timer ticks must run as with 1 GiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
export QEMU_MEM=512M
exec bash scripts/boot-test.sh riscv64 hello \
  --panic-pattern "KERNEL PANIC" --panic-pattern "hello: ERROR" \
  --expect "ram 0x80000000..0xa0000000, sv39" \
  --expect "kernel: core booted: 51" \
  --expect "hello from user mode" \
  --expect "hello: yield 3 returned" \
  --expect "timer: 10 ticks"
