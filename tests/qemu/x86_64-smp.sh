#!/usr/bin/env bash
# x86_64 multicore phase 1 (docs/smp.md): the kernel built with the `smp` feature, configured
# with CONFIG_MAX_NUM_NODES=4 (mkimage --set-config), boots under QEMU -smp 4. The BSP starts
# three APs with INIT-SIPI-SIPI through its local APIC; each runs the real-mode trampoline at
# 0x8000 into long mode, switches to the kernel's page tables, GDT and IDT on its own stack,
# prints its bring-up line under the big kernel lock and halts. The root task is the boot-info
# test, which then runs as on one core (every kernel entry through the lock) and sees
# numNodes 4 with four SchedControl caps. The uniprocessor kernel refuses the same
# configuration with a clear panic.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/arch.sh
arch_config x86_64
bash scripts/build-smp-images.sh x86_64 4 >/dev/null
out=build/x86_64-smp
# QEMU's line up to `-kernel build/x86_64/kernel32.bin -initrd`, with -smp 4 and our kernel.
qemu=()
for a in "${QEMU[@]}"; do
  case "$a" in
    build/x86_64/kernel32.bin) qemu+=("__KERNEL__") ;;
    *) qemu+=("$a") ;;
  esac
done
run() { local k="$1"; shift; local q=("${qemu[@]/__KERNEL__/$k}"); target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" "$@" -- "${q[0]}" -smp 4 "${q[@]:1}" "$out/bootinfo.elf"; }
run "$out/kernel32.bin" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "bootinfo: ERROR" --panic-pattern "sel4-root: panic" \
  --expect "kernel: config: CONFIG_NUM_DOMAINS=1 CONFIG_KERNEL_MCS=1 CONFIG_DEBUG_BUILD=1 CONFIG_PRINTING=1 CONFIG_MAX_NUM_NODES=4" \
  --expect "kernel: core 1 up: local APIC ID 1, long mode, own stack, kernel page tables, GDT and IDT; idle" \
  --expect "kernel: core 2 up: local APIC ID 2, long mode, own stack, kernel page tables, GDT and IDT; idle" \
  --expect "kernel: core 3 up: local APIC ID 3, long mode, own stack, kernel page tables, GDT and IDT; idle" \
  --expect "kernel: 4 cores up (INIT-SIPI-SIPI, trampoline at 0x8000; BSP APIC ID 0); big kernel lock on every kernel entry" \
  --expect "node 0 of 4, CNode size bits 12" \
  --expect "bootinfo: slot regions follow seL4's order with no gaps; 4 schedcontrol caps, one per node" \
  --expect "bootinfo: untyped list consistent (aligned, disjoint, caps are untyped)" \
  --expect "bootinfo: vspace: wrote and read back 0x5e140000cafe at 0x100000000" \
  --expect "bootinfo: ioport: this line went straight to COM1 through X86IOPortOut8" \
  --expect "bootinfo: done"
run "$out/kernel32-up.bin" --no-panic-check --expect-exit 35 \
  --expect "KERNEL PANIC: panicked at platform/qemu-x86_64/src/root.rs" \
  --expect "CONFIG_MAX_NUM_NODES=4 needs the multicore kernel (built with the smp feature); this one is uniprocessor"
