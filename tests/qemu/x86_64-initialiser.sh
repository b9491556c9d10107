#!/usr/bin/env bash
# x86_64 boot test: the Microkit initialiser boots as the initial task, reads its boot info and
# decodes the hello system attached to its ELF (see scripts/initialiser-boot-test.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/initialiser-boot-test.sh x86_64
