#!/usr/bin/env bash
# Builds the x86_64 boot images into build/x86_64/:
#   kernel32.bin  the kernel as a flat multiboot image (a.out-kludge header; QEMU -kernel)
#   kernel.elf    the same kernel as ELF64 (for gdb / objdump)
#   hello.elf     the bring-up initial task (QEMU -initrd)
#   fault.elf     the user-fault initial task
# Usage: build-x86_64.sh [debug|release]   (default release)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"
flag=""; [ "$profile" = release ] && flag="--release"
target=x86_64-unknown-none
cargo build $flag -q -p platform-qemu-x86_64 -p hello-x86_64 --target "$target"
objcopy="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-objcopy"
out=build/x86_64
mkdir -p "$out"
bin="target/$target/$profile"
cp "$bin/kernel-x86_64" "$out/kernel.elf"
"$objcopy" -O binary "$bin/kernel-x86_64" "$out/kernel32.bin"
cp "$bin/hello-x86_64" "$out/hello.elf"
cp "$bin/fault-x86_64" "$out/fault.elf"
echo "x86_64 images: $out/kernel32.bin $out/hello.elf $out/fault.elf"
