#!/usr/bin/env bash
# Builds the SMC test system (aarch64 only) with our SDK and `microkit` tool:
# build/smc/aarch64/loader.img (+ report.txt). The PD binary is microkit-hello's smc-probe.
#   tests/microkit/smc/build.sh
# Boot: Microkit's manual QEMU line (scripts/microkit-qemu.sh aarch64 build/smc/aarch64/loader.img)
#       (-machine virt,virtualization=on ... -device loader,file=...,addr=0x70000000,cpu-num=0)
# (virtualization=on makes QEMU's built-in PSCI use the SMC conduit; our kernel drops from
# EL2 to EL1 at boot and leaves HCR_EL2.TSC clear, so an SMC from EL1 reaches it.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
arch=aarch64
make --no-print-directory -s -C "$root/microkit-hello" ARCH="$arch" sdk pds >/dev/null
out="$root/build/smc/$arch"
mkdir -p "$out"
cp "$root/target/aarch64-unknown-none/release/smc-probe" "$out/smc-probe.elf"
cp "$here/smc.system" "$out/smc.system"
cd "$out"
MICROKIT_SDK="$root/build/sdk" "$root/build/sdk/bin/microkit" smc.system \
  --board qemu_virt_aarch64 --config debug -o "$out/loader.img" -r "$out/report.txt"
