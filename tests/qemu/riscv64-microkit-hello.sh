#!/usr/bin/env bash
# riscv64: the Microkit hello system end to end (our SDK, `microkit` tool, initialiser and kernel
# core): every PD mechanism prints its line; see tests/microkit/boot-test.sh.
set -euo pipefail
exec bash "$(dirname "$0")/../microkit/boot-test.sh" riscv64 hello
