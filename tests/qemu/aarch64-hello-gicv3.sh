#!/usr/bin/env bash
# AArch64 boot test on `-machine virt,gic-version=3`: the kernel must detect GICv3 and the
# timer tick must still arrive through it while user mode runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
export GIC_VERSION=3
exec bash scripts/boot-test.sh aarch64 hello \
  --expect "kernel: GICv3" \
  --expect "hello from user mode" \
  --expect "hello: yield 3 returned" \
  --expect "kernel: timer: 10 ticks while in user mode"
