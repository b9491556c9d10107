#!/usr/bin/env bash
# AArch64 multicore phase 1 (docs/smp.md): the kernel built with the `smp` feature and an image
# configured with CONFIG_MAX_NUM_NODES=4 (mkimage --option) boots under QEMU -smp 4. The boot
# core starts cores 1..3 with PSCI CPU_ON; each prints its bring-up line under the big kernel
# lock from its own stack with the kernel's page tables and vectors, then idles. The root task
# is the boot-info test, which then runs as on one core (every syscall through the lock) and
# sees numNodes 4 with four SchedControl caps. The uniprocessor kernel refuses the same
# configuration with a clear panic.
# Phase 2: the `smp` root task places threads on all four cores (SchedControl per core) and
# checks IPC and notifications across cores (every message exactly once, in order), migration
# of a running thread and suspend/resume/delete of a thread running on another core. It runs
# with -icount (guest time = instructions): with the host's real time a loaded machine makes
# every lock wait look like many milliseconds of a thread's 5 ms budget.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/arch.sh
arch_config aarch64
bash scripts/build-smp-images.sh aarch64 4 >/dev/null
out=build/aarch64-smp
n=${#QEMU[@]}
qemu_smp=("${QEMU[@]:0:n-1}" -smp 4 "${QEMU[n-1]}")
target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "bootinfo: ERROR" --panic-pattern "sel4-root: panic" \
  --expect "kernel: config: CONFIG_NUM_DOMAINS=1 CONFIG_KERNEL_MCS=1 CONFIG_DEBUG_BUILD=1 CONFIG_PRINTING=1 CONFIG_MAX_NUM_NODES=4" \
  --expect "kernel: core 1 up: MPIDR 0x1, EL1, own stack, kernel page tables and vectors; idle" \
  --expect "kernel: core 2 up: MPIDR 0x2, EL1, own stack, kernel page tables and vectors; idle" \
  --expect "kernel: core 3 up: MPIDR 0x3, EL1, own stack, kernel page tables and vectors; idle" \
  --expect "kernel: 4 cores up (PSCI CPU_ON through hvc); big kernel lock on every kernel entry" \
  --expect "node 0 of 4, CNode size bits 12" \
  --expect "bootinfo: slot regions follow seL4's order with no gaps; 4 schedcontrol caps, one per node" \
  --expect "bootinfo: untyped list consistent (aligned, disjoint, caps are untyped)" \
  --expect "bootinfo: vspace: wrote and read back 0x5e140000cafe at 0x100000000" \
  --expect "bootinfo: done" \
  -- "${qemu_smp[@]}" "$out/bootinfo.elf"
target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" --no-panic-check --expect-exit 1 \
  --expect "KERNEL PANIC: CONFIG_MAX_NUM_NODES=4 needs the multicore kernel (built with the smp feature); this one is uniprocessor" \
  -- "${qemu_smp[@]}" "$out/bootinfo-up.elf"
target/release/qemu-test --timeout "${BOOT_TIMEOUT_SMP:-240}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "smp: ERROR" --panic-pattern "sel4-root: panic" \
  --expect "kernel: core 3 schedules its own threads (reschedule IPI: SGI 0)" \
  --expect "smp: 4 nodes, SchedControl caps" \
  --expect "smp: server on core 1, clients on cores 0, 2, 3, notification pair on cores 2 and 3" \
  --expect "smp: IPC across cores: 300 calls from each client, every message seen exactly once and in order, every reply right" \
  --expect "smp: notifications across cores: 300 round trips between cores 2 and 3" \
  --expect "and stops when moved to core 0" \
  --expect "smp: migrated 2 -> 0 -> 3 -> 1 while running: advances again on cores 3 and 1" \
  --expect "smp: suspended while running on core 1: stopped; resumed: runs again" \
  --expect "smp: deleted while running on core 1: stopped; core 1 runs a new thread" \
  --expect "smp: done" \
  -- "${QEMU[@]:0:n-1}" -smp 4 -icount shift=0 "${QEMU[n-1]}" "$out/smp.elf"
