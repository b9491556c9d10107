#!/usr/bin/env bash
# Boot the default image for ARCH interactively (Ctrl-A X quits QEMU).
# Usage: run.sh <arch> [image-name]   (images are built by build-images.sh; `microkit-hello`
# is the Microkit hello system, built here with `make -C microkit-hello`)
# GIC_VERSION=3 selects GICv3 on aarch64.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh
arch="${1:-aarch64}"
arch_config "$arch"
name="${2:-$DEFAULT_IMAGE}"
if [ "$name" = microkit-hello ]; then
  # The Microkit hello system: SDK, PDs and image (our `microkit` tool), then its QEMU line.
  make --no-print-directory -s -C microkit-hello ARCH="$arch"
  image="build/microkit-hello/$arch/loader.img"
  # Microkit's manual QEMU line for the board.
  . scripts/microkit-qemu.sh
  microkit_qemu "$arch" "$image"
  echo "run: ${MK_QEMU[*]}   (Ctrl-A X quits)"
  exec "${MK_QEMU[@]}"
else
  image="build/$arch/$name.elf"
fi
[ -f "$image" ] || { echo "run: $image missing; run scripts/build-images.sh $arch" >&2; exit 1; }
echo "run: ${QEMU[*]} $image   (Ctrl-A X quits)"
exec "${QEMU[@]}" "$image"
