#!/usr/bin/env bash
# Shared body of the QEMU boot tests: build the images, then boot one under qemu-test.
# Usage: boot-test.sh <arch> <image-name> [qemu-test options: --expect LINE ...]
# Env: GIC_VERSION (aarch64), BOOT_TIMEOUT (seconds, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh
arch="$1"; image_name="$2"; shift 2
arch_config "$arch"
bash scripts/build-images.sh "$arch"
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" "$@" -- "${QEMU[@]}" "build/$arch/$image_name.elf"
