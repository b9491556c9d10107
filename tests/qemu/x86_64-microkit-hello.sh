#!/usr/bin/env bash
# x86_64: the Microkit hello system end to end. `make -C microkit-hello ARCH=x86_64` builds the
# SDK and the image (the initialiser with the system attached) with our `microkit` tool; it
# boots as the multiboot module beside our kernel, the initialiser creates every PD from the
# boot-info untypeds and starts them, and each mechanism prints a line only it can produce:
#   passive server    the monitor moved the server's SC to its notification, and the server
#                     then still answers the PPC (it can only run on the client's SC)
#   PPC               the server computes 6*7 from the client's MRs; the client prints the reply
#   notification      client -> server notify, client -> reader notify
#   shared memory     the reader prints the string the client wrote into the shared region
#   IRQ               the CMOS RTC's periodic interrupt (I/O ports 0x70-0x71 through an IOPort
#                     cap, ISA IRQ 8 issued with IRQControl_GetIOAPIC pin 8) reaches the driver
#                     twice: the second one only arrives if the first IRQHandler_Ack unmasked
#                     the PIC line (the kernel masks it on delivery)
set -euo pipefail
cd "$(dirname "$0")/../.."
make --no-print-directory -s -C microkit-hello ARCH=x86_64 >/dev/null
cargo build --quiet --release -p qemu-test
# Microkit's manual QEMU line (scripts/microkit-qemu.sh): -kernel sel4_32.elf -initrd loader.img.
. scripts/microkit-qemu.sh
microkit_qemu x86_64 build/microkit-hello/x86_64/loader.img
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "MON|ERROR" --panic-pattern "kernel: fault" \
  --panic-pattern "irq ack failed" --panic-pattern "unexpected" --panic-pattern "not mapped" \
  --panic-pattern "initialiser: ERROR" \
  --expect "initialiser: all PDs started" \
  --expect "MON|INFO: PD 'server' is now passive!" \
  --expect "server: ppc on channel 0 (label 1), answering 42" \
  --expect "client: ppc(6, 7) answered 42 (1 MR)" \
  --expect "server: notified" \
  --expect "shared memory: read 'hello'" \
  --expect "driver: irq acked (2 of 2)" -- \
  "${MK_QEMU[@]}"
