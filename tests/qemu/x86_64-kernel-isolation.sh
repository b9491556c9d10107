#!/usr/bin/env bash
# x86_64 boot test: user mode cannot read the kernel image (no user bit in the kernel's
# mappings): the read is reported as a protection-violation page fault and the task suspended.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh x86_64 kernel-read-x86_64 \
  --panic-pattern "KERNEL PANIC" --panic-pattern "kernel-read task: ERROR" \
  --expect "kernel-read task: reading kernel memory" \
  --expect "user fault: page fault (read access, protection violation) at 0xffffffff80100000 (pc 0x40" \
  --expect "kernel: thread suspended"
