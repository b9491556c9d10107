#!/usr/bin/env bash
# x86_64: a PD fault is reported by the monitor and the system carries on.
# tests/microkit/pd-fault: 'faulter' reads the unmapped address 0x100ad8 in init(); the
# initialiser (Microkit's monitor) receives the VM fault on its endpoint and prints the PD's
# name and the fault address (CR2) with the page-fault error code (4: user read, not present);
# afterwards the lower-priority client still calls the passive server and prints the answer
# the server computed. The image is the initialiser module booted beside the multiboot kernel.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/microkit/pd-fault/build.sh x86_64 >/dev/null
cargo build --quiet --release -p qemu-test
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "must not happen" --panic-pattern "kernel: fault" \
  --panic-pattern "initialiser: ERROR" \
  --expect "faulter: reading unmapped address 0x100ad8" \
  --expect "MON|ERROR: faulting PD: faulter" \
  --expect "fault_addr=0x0000000000100ad8  fsr=0x0000000000000004  (data fault)" \
  --expect "client: ppc(6, 7) answered 42" -- \
  qemu-system-x86_64 -machine q35 -cpu qemu64,+pdpe1gb,+syscall,+lm -m 1G \
  -display none -serial stdio -monitor none -nic none -no-reboot \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
  -kernel build/sdk/board/x86_64_generic/debug/elf/kernel32.bin \
  -initrd build/pd-fault/x86_64/loader.img
