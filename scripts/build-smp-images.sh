#!/usr/bin/env bash
# Build the multicore boot-test images of ARCH (docs/smp.md) into build/<arch>-smp/:
#   kernel.elf       the kernel built with the `smp` feature
#   bootinfo.elf     that kernel + the boot-info root task, configured CONFIG_MAX_NUM_NODES=N
#   bootinfo-up.elf  the uniprocessor kernel + the same task and configuration (must refuse it)
#   smp.elf          (aarch64: the arch whose multicore kernel runs threads on every core) the
#                    multicore kernel + the `smp` root task (threads on four cores)
# x86_64 (multiboot): kernel32.bin and kernel32-up.bin (the two kernels, configured in place
# with CONFIG_MAX_NUM_NODES=N) and bootinfo.elf (the task, QEMU's -initrd module).
# The uniprocessor kernel binary is rebuilt in place afterwards (cargo keeps both feature
# sets' artefacts, so that is a copy, not a compile) for the other tests.
# Usage: build-smp-images.sh <arch> [N (default 4)]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh
arch="$1"; nodes="${2:-4}"
arch_config "$arch"
bash scripts/build-images.sh "$arch" >/dev/null
out="build/$arch-smp"
mkdir -p "$out"
kbin="target/$KERNEL_TARGET/release/$KERNEL_BIN"
build_kernel --features smp
cp "$kbin" "$out/kernel.elf"
build_kernel
task="target/$TARGET/release/bootinfo"
case "${IMAGE_KIND:-payload}" in
  multiboot)
    # x86_64: the flat multiboot kernels, each configured in place; the task is the module.
    objcopy="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-objcopy"
    "$objcopy" -O binary "$out/kernel.elf" "$out/kernel32.bin"
    "$objcopy" -O binary "$kbin" "$out/kernel32-up.bin"
    for k in "$out/kernel32.bin" "$out/kernel32-up.bin"; do
      target/release/mkimage --option CONFIG_MAX_NUM_NODES="$nodes" --set-config sel4 "$k" >/dev/null
    done
    cp "$task" "$out/bootinfo.elf"
    built="$out/kernel32.bin $out/kernel32-up.bin $out/bootinfo.elf"
    ;;
  *)
    target/release/mkimage --kernel "$out/kernel.elf" --out "$out/bootinfo.elf" \
      --option CONFIG_MAX_NUM_NODES="$nodes" "$task" >/dev/null
    target/release/mkimage --kernel "$kbin" --out "$out/bootinfo-up.elf" \
      --option CONFIG_MAX_NUM_NODES="$nodes" "$task" >/dev/null
    built="$out/bootinfo.elf $out/bootinfo-up.elf"
    if [ "$arch" = aarch64 ]; then
      cargo build --quiet --release --target "$TARGET" -p root-tests --bin smp
      target/release/mkimage --kernel "$out/kernel.elf" --out "$out/smp.elf" \
        --option CONFIG_MAX_NUM_NODES="$nodes" "target/$TARGET/release/smp" >/dev/null
      built="$built $out/smp.elf"
    fi
    ;;
esac
echo "build-smp-images: $arch: $built (CONFIG_MAX_NUM_NODES=$nodes)"
