#!/usr/bin/env bash
# Build the hypervisor-mode boot-test images of aarch64 (docs/hyp.md) into build/aarch64-hyp/:
#   kernel.elf   the kernel built with the `hyp` feature (runs at EL2; its configuration
#                record has CONFIG_ARM_HYPERVISOR_SUPPORT=1)
#   <task>.elf   that kernel + one root task of ROOT_TESTS or `vcpu` (a guest at EL1), built
#                with sel4-sys's `hyp` feature (user space for a kernel with hypervisor
#                support: 8 KiB VSpaces, the VCPU labels)
#   hello-el1.elf  the EL1 kernel + hello, given CONFIG_ARM_HYPERVISOR_SUPPORT=1 (must refuse it)
# The EL1 kernel and the plain root tasks are rebuilt in place afterwards (a copy: cargo keeps
# both feature sets' artefacts) for the other tests.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh
arch_config aarch64
bash scripts/build-images.sh aarch64 >/dev/null
out="build/aarch64-hyp"
mkdir -p "$out"
kbin="target/$KERNEL_TARGET/release/$KERNEL_BIN"
cargo build --quiet --release --target "$KERNEL_TARGET" -p "$KERNEL_PKG" --features hyp
cp "$kbin" "$out/kernel.elf"
cargo build --quiet --release --target "$KERNEL_TARGET" -p "$KERNEL_PKG"
cargo build --quiet --release --target "$TARGET" -p root-tests --features sel4-sys/hyp
built=""
for t in $ROOT_TESTS vcpu; do
  target/release/mkimage --kernel "$out/kernel.elf" --out "$out/$t.elf" "target/$TARGET/release/$t" >/dev/null
  built="$built $out/$t.elf"
done
cargo build --quiet --release --target "$TARGET" -p root-tests
target/release/mkimage --kernel "$kbin" --out "$out/hello-el1.elf" \
  --option CONFIG_ARM_HYPERVISOR_SUPPORT=1 "target/$TARGET/release/hello" >/dev/null
echo "build-hyp-images:$built $out/hello-el1.elf"
