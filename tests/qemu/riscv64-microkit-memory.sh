#!/usr/bin/env bash
# riscv64: Microkit memory-region features end to end: a region prefilled from a file and its
# size setvar, a region filled with the device-tree boot info, and the untyped handoff; see
# tests/microkit/memory/boot-test.sh.
set -euo pipefail
exec bash "$(dirname "$0")/../microkit/memory/boot-test.sh" riscv64
