#!/usr/bin/env bash
# riscv64: the benchmark image (user/sel4-bench, see `make bench`) boots under -icount, prints a
# non-zero instruction count for every operation and exits QEMU by itself (scripts/bench.sh --check).
set -euo pipefail
exec bash "$(dirname "$0")/../../scripts/bench.sh" --check riscv64
