#!/usr/bin/env bash
# Build the kernel and user tasks for ARCH and pack one boot image per task into
# build/<arch>/<task>.elf (kernel + task as boot payload, via tools/mkimage). Also builds the
# host tools (mkimage, qemu-test). Usage: build-images.sh <arch>
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh
arch="${1:-aarch64}"
arch_config "$arch"

pkgs=(-p "$KERNEL_PKG")
for p in $USER_PKGS; do pkgs+=(-p "$p"); done
cargo build --quiet --release --target "$TARGET" "${pkgs[@]}"
cargo build --quiet --release -p mkimage -p qemu-test

out="build/$arch"
mkdir -p "$out"
bin="target/$TARGET/release"
cp "$bin/$KERNEL_BIN" "$out/kernel.elf"
for t in $TASKS; do
  target/release/mkimage --kernel "$bin/$KERNEL_BIN" --out "$out/$t.elf" "$bin/$t" >/dev/null
done
echo "build-images: $arch: $out/kernel.elf $(for t in $TASKS; do printf '%s ' "$out/$t.elf"; done)"
