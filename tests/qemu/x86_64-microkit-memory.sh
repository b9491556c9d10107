#!/usr/bin/env bash
# x86_64: Microkit memory-region features end to end: a region prefilled from a file and its
# size setvar, a region filled with the TSC-frequency boot info, and the untyped handoff; see
# tests/microkit/memory/boot-test.sh.
set -euo pipefail
exec bash "$(dirname "$0")/../microkit/memory/boot-test.sh" x86_64
