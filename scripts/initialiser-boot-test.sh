#!/usr/bin/env bash
# Boot test of the Microkit initialiser root task on one arch (default aarch64): builds the
# hello PDs and the initialiser, assembles the system blob onto the initialiser ELF with the
# image contract of sdk/spec (the `hello_image` example stands in for the microkit tool's
# image stage), boots it as the initial task and checks that the initialiser read its boot
# info and decoded the attached system on the target.
# Usage: initialiser-boot-test.sh [aarch64|riscv64|x86_64] (called by tests/qemu/<arch>-initialiser.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh
arch="${1:-aarch64}"
arch_config "$arch"
bash scripts/build-images.sh "$arch" >/dev/null
cargo build --quiet --release --target "$TARGET" -p microkit-initialiser -p microkit-hello
bin="target/$TARGET/release"
dir="build/$arch/hello-system"
mkdir -p "$dir"
for pd in client server reader driver; do cp "$bin/$pd" "$dir/$pd.elf"; done
cp "$bin/initialiser" "$dir/initialiser.elf"
summary="$(cargo run --quiet --release -p microkit-spec --example hello_image -- "$arch" "$dir")"
echo "$summary"
objects="$(sed -E 's/^hello_image: ([0-9]+) objects.*/\1/' <<<"$summary")"
mappings="$(sed -E 's/.* ([0-9]+) mappings.*/\1/' <<<"$summary")"
if [ "${IMAGE_KIND:-payload}" = multiboot ]; then
  image="$dir/initialiser-system.elf"
else
  image="build/$arch/initialiser-hello.elf"
  target/release/mkimage --kernel "target/$KERNEL_TARGET/release/$KERNEL_BIN" --out "$image" "$dir/initialiser-system.elf" >/dev/null
fi
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --expect "initialiser: " \
  --expect "initialiser: system with $objects objects, 4 PDs, $mappings mappings" \
  -- "${QEMU[@]}" "$image"
