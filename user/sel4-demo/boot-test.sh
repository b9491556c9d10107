#!/usr/bin/env bash
# Boot test body for sel4-demo (tests/qemu/{aarch64,riscv64}-sel4-demo.sh exec it; x86_64 waits for
# the kernel core behind that port): builds the kernel and tools (scripts/build-images.sh), builds sel4-demo,
# packs it as the initial task (mkimage payload, or the multiboot module on x86_64), boots it
# under tools/qemu-test and requires every line of expected-output.txt in order.
# Usage: boot-test.sh <arch>     Env: BOOT_TIMEOUT (seconds, default 30).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
. scripts/arch.sh
arch="${1:?usage: boot-test.sh <arch>}"
arch_config "$arch"
bash scripts/build-images.sh "$arch" >/dev/null
cargo build --quiet --release --target "$TARGET" -p sel4-demo
task="target/$TARGET/release/sel4-demo"
image="build/$arch/sel4-demo.elf"
mkdir -p "build/$arch"
case "${IMAGE_KIND:-payload}" in
  multiboot) cp "$task" "$image" ;;
  *) target/release/mkimage --kernel "target/$KERNEL_TARGET/release/$KERNEL_BIN" --out "$image" "$task" >/dev/null ;;
esac
args=(--panic-pattern "KERNEL PANIC" --panic-pattern "FAILED" --panic-pattern "sel4-root: panic")
while IFS= read -r line; do
  [ -n "$line" ] && args+=(--expect "$line")
done < "$here/expected-output.txt"
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" "${args[@]}" -- "${QEMU[@]}" "$image"
