#!/usr/bin/env bash
# RISC-V multicore phase 1 (docs/smp.md): the kernel built with the `smp` feature and an image
# configured with CONFIG_MAX_NUM_NODES=4 (mkimage --option) boots under QEMU -smp 4 and OpenSBI.
# The boot hart starts three more harts with SBI HSM hart_start; each turns on Sv39 with the
# kernel's tables, takes its own stack and the trap vector, prints its bring-up line under the
# big kernel lock and idles. The root task is the boot-info test, which then runs as on one
# core (every syscall through the lock) and sees numNodes 4 with four SchedControl caps. The
# uniprocessor kernel refuses the same configuration with a clear panic. (OpenSBI may boot the
# kernel on any hart, so the hart numbers are not checked.)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/arch.sh
arch_config riscv64
bash scripts/build-smp-images.sh riscv64 4 >/dev/null
out=build/riscv64-smp
n=${#QEMU[@]}
qemu_smp=("${QEMU[@]:0:n-1}" -smp 4 "${QEMU[n-1]}")
target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "bootinfo: ERROR" --panic-pattern "sel4-root: panic" \
  --expect "kernel: config: CONFIG_NUM_DOMAINS=1 CONFIG_KERNEL_MCS=1 CONFIG_DEBUG_BUILD=1 CONFIG_PRINTING=1 CONFIG_MAX_NUM_NODES=4" \
  --expect "kernel: core 1 up: hart " \
  --expect "kernel: core 2 up: hart " \
  --expect "kernel: core 3 up: hart " \
  --expect "kernel: 4 cores up (SBI HSM hart_start; boot hart " \
  --expect "node 0 of 4, CNode size bits 12" \
  --expect "bootinfo: slot regions follow seL4's order with no gaps; 4 schedcontrol caps, one per node" \
  --expect "bootinfo: untyped list consistent (aligned, disjoint, caps are untyped)" \
  --expect "bootinfo: vspace: wrote and read back 0x5e140000cafe at 0x100000000" \
  --expect "bootinfo: done" \
  -- "${qemu_smp[@]}" "$out/bootinfo.elf"
target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" --no-panic-check --expect-exit 1 \
  --expect "KERNEL PANIC: panicked at platform/qemu-virt-riscv64/src/root.rs" \
  --expect "CONFIG_MAX_NUM_NODES=4 needs the multicore kernel (built with the smp feature); this one is uniprocessor" \
  -- "${qemu_smp[@]}" "$out/bootinfo-up.elf"
