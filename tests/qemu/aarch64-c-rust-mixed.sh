#!/usr/bin/env bash
# aarch64: the mixed system (examples/mixed): C PDs built against our C SDK and Rust PDs on
# pd/microkit talking over PPC, notifications and shared memory; see
# tests/microkit/c-boot-test.sh.
set -euo pipefail
exec bash "$(dirname "$0")/../microkit/c-boot-test.sh" aarch64 mixed
