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
built="$out/kernel.elf"
for spec in $IMAGES; do
  name="${spec%%=*}"
  files=()
  IFS=, read -r -a tasks <<<"${spec#*=}"
  for t in "${tasks[@]}"; do files+=("$bin/$t"); done
  target/release/mkimage --kernel "$bin/$KERNEL_BIN" --out "$out/$name.elf" "${files[@]}" >/dev/null
  built="$built $out/$name.elf"
done
echo "build-images: $arch: $built"
