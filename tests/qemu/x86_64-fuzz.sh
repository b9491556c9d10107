#!/usr/bin/env bash
# x86_64: a short fuzz campaign (user/sel4-fuzz, docs/fuzz.md): 30000 seeded random system calls
# and templated invocations on every object type, faulting victims and a supervisor. Fails on a
# kernel panic, a reply that is no valid seL4 result (printed with seed and call index), a hang
# or a missing coverage table / final line.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/fuzz.sh x86_64 "${FUZZ_SEED:-1}" "${FUZZ_CALLS:-30000}"
