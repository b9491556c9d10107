#!/usr/bin/env bash
# x86_64: a Microkit system with IO mappings (x86_64-microkit-iommu.system: the hello PDs plus
# an <io_address_space> for QEMU's EDU device and a per-PD <iomap>) goes through our
# `microkit` tool and boots. Our kernel has no IOMMU (VT-d) support, so the initialiser must
# say, before any PD runs, that the declared IO mappings are NOT enforced, and name each IO
# address space; the PDs then run as usual. The test fails if that warning is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
make --no-print-directory -s -C microkit-hello ARCH=x86_64 >/dev/null
out=build/microkit-iommu/x86_64
mkdir -p "$out"
for pd in client server reader driver; do cp "build/microkit-hello/x86_64/$pd.elf" "$out/"; done
cp tests/qemu/x86_64-microkit-iommu.system "$out/iommu.system"
(cd "$out" && MICROKIT_SDK="$PWD/../../sdk" ../../sdk/bin/microkit iommu.system \
  --board x86_64_generic --config debug -o loader.img -r report.txt >/dev/null)
grep -q "^## IOMMU (2 io address spaces, 3 IO page mappings)" "$out/report.txt"
cargo build --quiet --release -p qemu-test
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "MON|ERROR" --panic-pattern "initialiser: ERROR" \
  --expect "initialiser: WARNING: IO mappings NOT enforced: 2 io address space(s), 3 IO page mapping(s) declared, but this kernel has no IOMMU support" \
  --expect "initialiser:   io address space 'edu': PCI 00:04.0, domain 1, no IOMMU translation for its 1 page(s)" \
  --expect "initialiser:   io address space 'pcidev 00:05.0': PCI 00:05.0, domain 2, no IOMMU translation for its 2 page(s)" \
  --expect "initialiser: all PDs started" \
  --expect "shared memory: read 'hello'" -- \
  qemu-system-x86_64 -machine q35 -cpu qemu64,+fsgsbase,+pdpe1gb,+xsaveopt,+xsave -m 1G \
  -display none -serial stdio -monitor none -nic none -no-reboot \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 -device edu,addr=04.0 \
  -kernel "$out/sel4_32.elf" -initrd "$out/loader.img"
