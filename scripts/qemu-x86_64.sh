#!/usr/bin/env bash
# Runs the x86_64 kernel in QEMU (q35) with an initial task; serial on stdio.
# Usage: qemu-x86_64.sh <initial-task.elf> [extra qemu args...]
# Exit status: 33 = clean shutdown (seL4_DebugHalt), 35 = kernel panic (isa-debug-exit).
set -euo pipefail
cd "$(dirname "$0")/.."
task="${1:-build/x86_64/hello.elf}"; shift || true
exec qemu-system-x86_64 -machine q35 -cpu qemu64,+pdpe1gb,+syscall,+lm -m 1G \
  -display none -serial stdio -monitor none -nic none -no-reboot \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
  -kernel build/x86_64/kernel32.bin -initrd "$task" "$@"
