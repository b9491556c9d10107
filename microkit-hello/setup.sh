#!/usr/bin/env bash
# Builds our Microkit SDK from this repository into build/sdk/ (nothing is downloaded), laid
# out like Microkit's SDK so the `microkit` tool finds it through MICROKIT_SDK / --sdk-dir:
#   build/sdk/bin/microkit                                     the `microkit` tool (host)
#   build/sdk/board/<board>/<config>/elf/initialiser.elf       the initialiser root task
#   build/sdk/board/<board>/<config>/elf/sel4.elf              the kernel ELF (aarch64, riscv64)
#   build/sdk/board/<board>/<config>/elf/kernel32.bin          the multiboot kernel (x86_64)
# Our kernel has one build for every configuration: each configuration's copy of it gets that
# configuration's kernel options (Microkit's values: 16 domains; debug with printing, release
# and benchmark without) in its configuration record (`mkimage --set-config`, docs/config.md).
# Usage: ./setup.sh [aarch64|riscv64|x86_64 ...]   (default: all three)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
sdk="$root/build/sdk"
cd "$root"
bash scripts/setup.sh

arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(aarch64 riscv64 x86_64)

mkdir -p "$sdk/bin"
echo "setup: building the microkit tool"
cargo build --quiet --release -p microkit-tool -p mkimage
cp target/release/microkit "$sdk/bin/microkit"

objcopy="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-objcopy"
for arch in "${arches[@]}"; do
  ktarget=""
  case "$arch" in
    aarch64) target=aarch64-unknown-none; board=qemu_virt_aarch64
             kpkg=kernel-qemu-virt-aarch64; kbin=kernel; ktarget=aarch64-unknown-none-softfloat ;;
    riscv64) target=riscv64gc-unknown-none-elf; board=qemu_virt_riscv64
             kpkg=kernel-qemu-virt-riscv64; kbin=kernel-qemu-virt-riscv64 ;;
    x86_64) target=x86_64-unknown-none; board=x86_64_generic
            kpkg=platform-qemu-x86_64; kbin=kernel-x86_64 ;;
    *) echo "setup: unknown arch '$arch'"; exit 1 ;;
  esac
  ktarget="${ktarget:-$target}"
  echo "setup: building the initialiser for $arch"
  # Built on its own: building it together with PDs would unify microkit-spec's features.
  cargo build --quiet -p microkit-initialiser --target "$target" --release
  kernel=""
  if cargo pkgid -q "$kpkg" >/dev/null 2>&1; then
    echo "setup: building the kernel for $arch ($kpkg)"
    # As the boot images' kernel (scripts/arch.sh: its KERNEL_RUSTFLAGS).
    (. scripts/arch.sh && arch_config "$arch" && build_kernel)
    kernel="target/$ktarget/release/$kbin"
  else
    echo "setup: no kernel package '$kpkg' in this tree; the $board SDK has no kernel"
  fi
  for config in debug release benchmark; do
    dir="$sdk/board/$board/$config/elf"
    mkdir -p "$dir"
    cp "target/$target/release/initialiser" "$dir/initialiser.elf"
    if [ -n "$kernel" ]; then
      if [ "$arch" = x86_64 ]; then
        # The kernel ELF, from which the tool writes sel4.elf and sel4_32.elf beside each
        # image (as Microkit's SDK ships them), and the flat multiboot image (a.out-kludge
        # header) the older scripts boot with QEMU -kernel.
        cp "$kernel" "$dir/sel4.elf"
        target/release/mkimage --set-config "$config" "$dir/sel4.elf" >/dev/null
        "$objcopy" -O binary "$dir/sel4.elf" "$dir/kernel32.bin"
      else
        cp "$kernel" "$dir/sel4.elf"
        target/release/mkimage --set-config "$config" "$dir/sel4.elf" >/dev/null
      fi
    fi
  done
done
echo "setup: SDK in $sdk"
