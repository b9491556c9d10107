#!/usr/bin/env bash
# riscv64: a <template> child PD (no program image) faults into its parent, which loads code into
# their shared region and restarts it there; the code's own output and result prove it ran;
# see tests/microkit/boot-test.sh (template).
set -euo pipefail
exec bash "$(dirname "$0")/../microkit/boot-test.sh" riscv64 template
