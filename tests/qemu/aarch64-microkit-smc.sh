#!/usr/bin/env bash
# aarch64: seL4_ARM_SMC_Call end to end (tests/microkit/smc). PD 'smc' (smc="true") asks QEMU's
# built-in PSCI for its version and features through the SMC cap the initialiser gave it
# (Microkit slot 7), then makes an SMC nothing answers (the kernel resumes it with x0 = -1
# instead of panicking); PD 'nosmc' runs the same code without the cap and gets
# InvalidCapability.
#
# Own QEMU command line: `-machine virt,virtualization=on`. Only then does QEMU's PSCI use the
# SMC conduit (plain `virt` uses HVC and an SMC is UNDEFINED); QEMU enters our kernel at EL2,
# which drops to EL1 at boot (HCR_EL2.TSC clear, so SMCs from EL1 reach QEMU's PSCI). The
# other aarch64 boot tests keep the plain EL1 machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet --release -p qemu-test
bash tests/microkit/smc/build.sh >/dev/null
# Microkit's manual QEMU line (scripts/microkit-qemu.sh).
. scripts/microkit-qemu.sh
microkit_qemu aarch64 build/smc/aarch64/loader.img
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "MON|ERROR" --panic-pattern "kernel: fault" \
  --expect "initialiser: all PDs started" \
  --expect "smc: PSCI_VERSION via SMC: x0=0x10001 (PSCI 1.1)" \
  --expect "smc: PSCI_FEATURES(PSCI_VERSION) via SMC: x0=0x0" \
  --expect "smc: unanswered SMC 0xc2000001: x0=0xffffffffffffffff" \
  --expect "nosmc: SMC refused: Kernel { error: InvalidCapability, mr0: 0 }" -- \
  "${MK_QEMU[@]}"
