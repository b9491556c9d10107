#!/usr/bin/env bash
# Build the kernel and user tasks for ARCH and pack one boot image per task into
# build/<arch>/<task>.elf (kernel + task as boot payload, via tools/mkimage). Also builds the
# host tools (mkimage, qemu-test). Usage: build-images.sh <arch>
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh
arch="${1:-aarch64}"
arch_config "$arch"

pkgs=()
if [ -n "${USER_PKGS:-}" ]; then
  for p in $USER_PKGS; do pkgs+=(-p "$p"); done
else
  for t in $TASKS; do pkgs+=(-p "user-$t"); done
fi
build_kernel
cargo build --quiet --release --target "$TARGET" "${pkgs[@]}"
cargo build --quiet --release -p mkimage -p qemu-test

out="build/$arch"
mkdir -p "$out"
bin="target/$TARGET/release"
kbin="target/$KERNEL_TARGET/release/$KERNEL_BIN"
case "${IMAGE_KIND:-payload}" in
  multiboot)
    objcopy="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-objcopy"
    cp "$kbin" "$out/kernel.elf"
    "$objcopy" -O binary "$kbin" "$out/kernel32.bin"
    for t in $TASKS; do cp "$bin/$t" "$out/$t.elf"; done
    built="$out/kernel32.bin $(for t in $TASKS; do printf '%s ' "$out/$t.elf"; done)"
    ;;
  *)
    cp "$kbin" "$out/kernel.elf"
    built="$out/kernel.elf"
    specs="${IMAGES:-}"
    if [ -z "$specs" ]; then for t in $TASKS; do specs="$specs $t=$t"; done; fi
    for spec in $specs; do
      name="${spec%%=*}"
      files=()
      IFS=, read -r -a tasks <<<"${spec#*=}"
      for t in "${tasks[@]}"; do files+=("$bin/$t"); done
      target/release/mkimage --kernel "$kbin" --out "$out/$name.elf" "${files[@]}" >/dev/null
      built="$built $out/$name.elf"
    done
    ;;
esac
echo "build-images: $arch: $built"
