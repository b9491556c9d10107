#!/usr/bin/env bash
# Build the seL4-direct x86_64 example: the project's x86_64 kernel (build/x86_64/kernel32.bin,
# via scripts/build-images.sh) and this root task (build/x86_64/sel4-x86_64.elf).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build-images.sh x86_64 >/dev/null
cargo build --quiet --release --target x86_64-unknown-none -p sel4-x86_64
mkdir -p build/x86_64
cp target/x86_64-unknown-none/release/sel4-x86_64 build/x86_64/sel4-x86_64.elf
echo "build: build/x86_64/kernel32.bin build/x86_64/sel4-x86_64.elf"
