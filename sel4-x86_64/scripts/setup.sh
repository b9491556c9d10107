#!/usr/bin/env bash
# Setup for the seL4-direct x86_64 example: the repository's `make setup` (QEMU from Debian
# packages, the pinned Rust toolchain and targets). Downloads nothing else.
set -euo pipefail
cd "$(dirname "$0")/../.."
make setup
