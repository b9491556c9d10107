#!/usr/bin/env bash
# x86_64: the initialiser module the `microkit` tool builds for microkit-hello boots beside
# the multiboot kernel, and the initialiser finds and decodes the embedded system (the
# tool -> kernel -> initialiser image contract). The PDs then run: x86_64-microkit-hello.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
make --no-print-directory -s -C microkit-hello ARCH=x86_64 >/dev/null
cargo build --quiet --release -p qemu-test
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "invalid system description" \
  --panic-pattern "no system attached" \
  --expect "objects, 4 PDs, " -- \
  qemu-system-x86_64 -machine q35 -cpu qemu64,+pdpe1gb,+syscall,+lm -m 1G \
  -display none -serial stdio -monitor none -nic none -no-reboot \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
  -kernel build/sdk/board/x86_64_generic/debug/elf/kernel32.bin \
  -initrd build/microkit-hello/x86_64/loader.img
