#!/usr/bin/env bash
# aarch64: the C example system (examples/c-hello) built against our C SDK with Microkit's
# example Makefile conventions and clang; see tests/microkit/c-boot-test.sh.
set -euo pipefail
exec bash "$(dirname "$0")/../microkit/c-boot-test.sh" aarch64
