#!/usr/bin/env bash
# AArch64 hypervisor-mode kernel (docs/hyp.md): the kernel built with the `hyp` feature stays at
# EL2 under QEMU `-machine virt,virtualization=on`; native threads run at EL0 with HCR_EL2.TGE
# and stage-2 VSpaces (VTTBR_EL2, VMID = ASID), the kernel ticks on the EL2 physical timer
# (PPI 26), lazy FPU through CPTR_EL2.TFP. The root tests of the EL1 kernel run unchanged
# (built for a kernel with CONFIG_ARM_HYPERVISOR_SUPPORT: 8 KiB VSpace objects), and the
# Microkit hello system runs with the SDK's debug configuration plus the option. The EL1
# kernel refuses a record with the option; the hyp kernel entered at EL1 says it needs EL2.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build-hyp-images.sh >/dev/null
bash scripts/build-hyp-microkit.sh >/dev/null
out=build/aarch64-hyp
qemu=(qemu-system-aarch64 -machine virt,virtualization=on -cpu cortex-a53 -m 1G -nographic -semihosting -kernel)
run() {
  local image="$1"; shift
  target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" --panic-pattern "KERNEL PANIC" \
    --panic-pattern "sel4-root: panic" --panic-pattern ": ERROR" "$@" -- "${qemu[@]}" "$out/$image.elf"
}
run hello \
  --expect "kernel: aarch64 QEMU virt, entered at EL2, running at EL2, MMU on, kernel window at 0x800000000000" \
  --expect "CONFIG_MAX_NUM_NODES=1 CONFIG_ARM_HYPERVISOR_SUPPORT=1" \
  --expect "hello from user mode" \
  --expect "hello: yield 3 returned" \
  --expect "hello: registers across yield: fp 0x4045000000000000, int 0x12345678" \
  --expect "hello: stack intact across yield" \
  --expect "kernel: timer: 10 ticks while in user mode"
# Stage-2 translation faults (ESR_EL2 DFSC 0b0001xx: translation fault at the level the walk
# stopped) are VM faults at the faulting address, as at EL1.
run fault \
  --expect "has no fault handler, suspended: vm fault on data at 0xdead0000 (pc 0x40" \
  --expect "kernel: heartbeat: tick"
run kernel-access \
  --expect "has no fault handler, suspended: vm fault on data at 0xffff000040200000 (pc 0x40" \
  --expect "kernel: heartbeat: tick"
run undefined \
  --expect "has no fault handler, suspended: user exception 0x2000000 code 0 (pc 0x40" \
  --expect "kernel: heartbeat: tick"
# A thread with a VCPU runs its code at EL1 (HCR_EL2 without TGE, EL1 registers from the
# VCPU): a trapped smc is a VCPUFault with the HSR, a stage-2 abort a VMFault at the IPA, and
# hvc a system call (number 0 here: UnknownSyscall); replies resume the guest. A virtual IRQ
# injected into a GICH list register reaches the guest once it enables its GICV interface.
run vcpu --panic-pattern "has no fault handler" \
  --expect "vcpu: InjectIRQ into list register 0 accepted, into list register 4: RangeError" \
  --expect "vcpu: guest smc -> VCPUFault (label 8) HSR 0x5e000000 (EC 0x17) at pc 0x40000010; guest x0 = 42, x3 = 0x5eed (TPIDR_EL1 loaded from the VCPU); VCPU TPIDR_EL1 now 0xbeef (saved from the guest)" \
  --expect "vcpu: guest load from an unmapped IPA -> VMFault (label 6) at IPA 0x12340000, pc 0x40000018" \
  --expect "vcpu: guest hvc #0 -> UnknownSyscall (label 2) number 0, x0 = 42, pc 0x4000001c, spsr 0x3c5" \
  --expect "vcpu: guest enabled its GICV interface, took the injected virtual IRQ at its EL1 vector (pc 0x40000a84) and acknowledged IRQ 27 (GICV_IAR)" \
  --expect "vcpu: guest's virtual timer fired -> VPPIEvent (label 9) IRQ 27" \
  --expect "vcpu: AckVPPI(27) accepted" \
  --expect "vcpu: done"
run preempt --panic-pattern "has no fault handler" \
  --expect "preempt: second thread started: own VSpace and ASID with " \
  --expect "preempt: root saw the second thread's counter reach 2000000" \
  --expect "preempt: second thread saw the root's counter advance by 2000000"
run fpcheck --panic-pattern "has no fault handler" \
  --expect "fpclobber: V0-V31 intact across 5 preemptions" \
  --expect "fpcheck: V0-V31 intact across " \
  --expect "fpcheck: and intact across " \
  --expect "fpcheck: fpuDisabled thread's FP instruction faulted to its handler: FP/SIMD access trap, ESR EC 0x7 (user exception 0x"
run bootinfo --panic-pattern "has no fault handler" \
  --expect "bootinfo: slot regions follow seL4's order with no gaps; one schedcontrol cap" \
  --expect "bootinfo: untyped list consistent (aligned, disjoint, caps are untyped)" \
  --expect "bootinfo: vspace: Page_Map before the tables: error 6; 2 page tables created; frame map error 0; frame paddr 0x" \
  --expect "bootinfo: vspace: wrote and read back 0x5e140000cafe at 0x100000000" \
  --expect "bootinfo: done"
# The Microkit hello system (Microkit's QEMU line for qemu_virt_aarch64 enters at EL2).
. scripts/microkit-qemu.sh
microkit_qemu aarch64 "$out/microkit-hello.img"
target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "MON|ERROR" --panic-pattern "kernel: fault" \
  --panic-pattern "ERROR" --panic-pattern "not mapped" \
  --expect "CONFIG_ARM_HYPERVISOR_SUPPORT=1" \
  --expect "initialiser: all PDs started" \
  --expect "MON|INFO: PD 'server' is now passive!" \
  --expect "client: ppc(6, 7) answered 42 (1 MR)" \
  --expect "shared memory: read 'hello'" \
  --expect "driver: irq acked (2 of 2)" -- "${MK_QEMU[@]}"
# The EL1 kernel refuses a record with the option; the hyp kernel refuses to run at EL1.
target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" --no-panic-check --expect-exit 1 \
  --expect "KERNEL PANIC: configuration record has CONFIG_ARM_HYPERVISOR_SUPPORT=1, but this kernel was built without the hyp feature" \
  -- "${qemu[@]}" "$out/hello-el1.elf"
target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" --no-panic-check --expect-exit 1 \
  --expect "KERNEL PANIC: the hypervisor kernel (hyp feature) must be entered at EL2 (QEMU -machine virt,virtualization=on)" \
  -- qemu-system-aarch64 -machine virt -cpu cortex-a53 -m 1G -nographic -semihosting -kernel "$out/hello.elf"
echo "aarch64-hyp: root tests, Microkit hello and both refusals passed on the EL2 kernel"
