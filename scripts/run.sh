#!/usr/bin/env bash
# Boot the default image for ARCH interactively (Ctrl-A X quits QEMU).
# Usage: run.sh <arch> [image-name]   (images are built by build-images.sh)
# GIC_VERSION=3 selects GICv3 on aarch64.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh
arch="${1:-aarch64}"
arch_config "$arch"
image="build/$arch/${2:-$DEFAULT_IMAGE}.elf"
[ -f "$image" ] || { echo "run: $image missing; run scripts/build-images.sh $arch" >&2; exit 1; }
echo "run: ${QEMU[*]} $image   (Ctrl-A X quits)"
exec "${QEMU[@]}" "$image"
