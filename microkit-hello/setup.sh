#!/usr/bin/env bash
# Builds our Microkit SDK from this repository into build/sdk/ (nothing is downloaded):
#   build/sdk/bin/microkit                                   the `microkit` tool (host)
#   build/sdk/board/<board>/<config>/elf/initialiser.elf     the initialiser root task
#   build/sdk/board/<board>/<config>/elf/sel4.elf            the kernel, when its build exists
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
if [ -f sdk/tool/Cargo.toml ]; then
  echo "setup: building the microkit tool"
  cargo build --release --manifest-path sdk/tool/Cargo.toml
  bin="$(cargo metadata --format-version 1 --no-deps --manifest-path sdk/tool/Cargo.toml \
        | python3 -c 'import json,sys; m=json.load(sys.stdin); print(next(t["name"] for p in m["packages"] if p["manifest_path"].endswith("sdk/tool/Cargo.toml") for t in p["targets"] if "bin" in t["kind"]))')"
  cp "target/release/$bin" "$sdk/bin/microkit"
else
  echo "setup: sdk/tool is not in this tree yet; the microkit tool is not built"
fi

for arch in "${arches[@]}"; do
  case "$arch" in
    aarch64) target=aarch64-unknown-none; board=qemu_virt_aarch64 ;;
    riscv64) target=riscv64gc-unknown-none-elf; board=qemu_virt_riscv64 ;;
    x86_64) target=x86_64-unknown-none; board=x86_64_generic ;;
    *) echo "setup: unknown arch '$arch'"; exit 1 ;;
  esac
  echo "setup: building the initialiser for $arch"
  cargo build -p microkit-initialiser --target "$target" --release
  for config in debug release; do
    dir="$sdk/board/$board/$config/elf"
    mkdir -p "$dir"
    cp "target/$target/release/initialiser" "$dir/initialiser.elf"
    # The kernel for this board, if the arch bring-up has produced one (build/<arch>/).
    for k in "build/$arch/kernel.elf" "build/$arch/sel4.elf"; do
      [ -f "$k" ] && cp "$k" "$dir/sel4.elf" && break
    done
  done
done
echo "setup: SDK in $sdk"
