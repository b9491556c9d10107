#!/usr/bin/env bash
# aarch64: Microkit scheduling domains: two spinning PDs in domains A and B take alternate turns
# (the low-priority one runs only in B's slots) and a PD never runs outside its domain; see
# tests/microkit/boot-test.sh and tests/microkit/domains/.
set -euo pipefail
exec bash "$(dirname "$0")/../microkit/boot-test.sh" aarch64 domains
