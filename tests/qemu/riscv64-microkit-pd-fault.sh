#!/usr/bin/env bash
# riscv64: a PD reads an unmapped address; the monitor reports it (PD name, fault address) and the
# other PDs' output continues; see tests/microkit/boot-test.sh and tests/microkit/pd-fault/.
set -euo pipefail
exec bash "$(dirname "$0")/../microkit/boot-test.sh" riscv64 pd-fault
