#!/usr/bin/env bash
# Boot test of a Microkit system built with our SDK and `microkit` tool, on ARCH (aarch64 or
# riscv64; x86_64 needs the kernel core behind its port first). Used by
# tests/qemu/<arch>-microkit-{hello,pd-fault}.sh.
#   tests/microkit/boot-test.sh ARCH hello      microkit-hello: every PD mechanism's line
#   tests/microkit/boot-test.sh ARCH pd-fault   tests/microkit/pd-fault: fault report, then
#                                               the other PDs carry on
#   tests/microkit/boot-test.sh ARCH domains    tests/microkit/domains: scheduling domains
#                                               alternate (see that case below)
#
# hello: each mechanism prints a line only it can produce, checked in order:
#   passive server    the monitor moved the server's SC to its notification, and the server
#                     then still answers the PPC (it can only run on the client's SC)
#   PPC               the server computes 6*7 from the client's MRs; the client prints the reply
#   notification      client -> server notify, client -> reader notify
#   shared memory     the reader prints the string the client wrote into the shared region
#   IRQ               the RTC interrupt reaches the driver twice: the second one only arrives
#                     if the first IRQHandler_Ack unmasked the line
# pd-fault: 'faulter' reads the unmapped address 0x100ad8 in init(); the initialiser
#   (Microkit's monitor) receives the VM fault on its endpoint and prints the PD's name and the
#   fault address; afterwards the lower-priority client still calls the passive server and
#   prints the answer. (One expectation per line: the `MON|ERROR: VMFault in PD 'faulter':
#   ip=… fault_addr=0x…100ad8` line is matched by its address.)
# region-paddr: tests/microkit/region-paddr: 'dma' gets the physical addresses of two regions
#   without phys_addr (3 x 4 KiB and 1 x 2 MiB) through `setvar region_paddr`; the initialiser
#   allocates them contiguously, checks them with Page_GetAddress and writes them into the PD.
#   The PD has QEMU's fw_cfg device DMA its signature to paddr + offset (in the last page of
#   the first region) and reads "QEMU" back through its virtual mapping: a wrong or
#   non-contiguous address leaves the bytes elsewhere and prints FAILED.
# template: tests/microkit/template: 'loadee' is a <template> child of 'loader' (no program
#   image). It starts at 0 and faults into the loader, which copies position-independent code
#   into their shared region and restarts it there (pd_restart); the code prints its own line
#   (only it can), computes 3 * nonce + 1 next to the nonce and faults at 0x10; the loader
#   checks value, fault address and fault ip (inside the code) and stops it (pd_stop).
set -euo pipefail
cd "$(dirname "$0")/../.."
arch="$1"
system="$2"
case "$arch" in
  aarch64|riscv64) ;;
  *) echo "microkit boot test: unsupported arch '$arch'" >&2; exit 1 ;;
esac
# Microkit's manual QEMU line for the board (scripts/microkit-qemu.sh).
. scripts/microkit-qemu.sh
cargo build --quiet --release -p qemu-test
case "$system" in
  hello)
    make --no-print-directory -s -C microkit-hello ARCH="$arch" >/dev/null
    microkit_qemu "$arch" "build/microkit-hello/$arch/loader.img"
    exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" \
      --panic-pattern "KERNEL PANIC" --panic-pattern "MON|ERROR" --panic-pattern "kernel: fault" \
      --panic-pattern "irq ack failed" --panic-pattern "unexpected" --panic-pattern "not mapped" \
      --expect "initialiser: all PDs started" \
      --expect "MON|INFO: PD 'server' is now passive!" \
      --expect "server: ppc on channel 0 (label 1), answering 42" \
      --expect "client: ppc(6, 7) answered 42 (1 MR)" \
      --expect "server: notified" \
      --expect "shared memory: read 'hello'" \
      --expect "driver: irq acked (2 of 2)" -- \
      "${MK_QEMU[@]}"
    ;;
  pd-fault)
    bash tests/microkit/pd-fault/build.sh "$arch" >/dev/null
    microkit_qemu "$arch" "build/pd-fault/$arch/loader.img"
    exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
      --panic-pattern "KERNEL PANIC" --panic-pattern "must not happen" --panic-pattern "kernel: fault" \
      --expect "faulter: reading unmapped address 0x100ad8" \
      --expect "MON|ERROR: faulting PD: faulter" \
      --expect "fault_addr=0x0000000000100ad8" \
      --expect "client: ppc(6, 7) answered 42" -- \
      "${MK_QEMU[@]}"
    ;;
  region-paddr)
    bash tests/microkit/region-paddr/build.sh "$arch" >/dev/null
    microkit_qemu "$arch" "build/region-paddr/$arch/loader.img"
    exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
      --panic-pattern "KERNEL PANIC" --panic-pattern "FAILED" --panic-pattern "MON|ERROR" \
      --panic-pattern "initialiser: ERROR" \
      --expect "initialiser: region 'mr_dma_buf_0' (3 frame(s) of 0x1000 bytes) at paddr 0x" \
      --expect "initialiser: region 'mr_big_buf_0' (1 frame(s) of 0x200000 bytes) at paddr 0x" \
      --expect "dma: region 'dma_buf' has paddr 0x" \
      --expect "(+0x2010) arrived in 'dma_buf': QEMU" \
      --expect "dma: region 'big_buf' has paddr 0x" \
      --expect "(+0x1f0008) arrived in 'big_buf': QEMU" -- \
      "${MK_QEMU[@]}"
    ;;
  template)
    bash tests/microkit/template/build.sh "$arch" >/dev/null
    microkit_qemu "$arch" "build/template/$arch/loader.img"
    exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
      --panic-pattern "KERNEL PANIC" --panic-pattern "FAILED" --panic-pattern "MON|ERROR" \
      --panic-pattern "initialiser: ERROR" \
      --expect "initialiser: starting PD 'loadee' (priority 20)" \
      --expect "at ip 0x0 addr 0x0 before any code ran" \
      --expect "restarting the child at 0x280000" \
      --expect "loadee: hello from code its parent loaded at run time" \
      --expect "loader: the loaded code ran: it computed 0x369d0369d035 = 3 * 0x123456789abc + 1 and faulted at 0x10 as planned" \
      --expect "loader: child 0 stopped" -- \
      "${MK_QEMU[@]}"
    ;;
  domains)
    # tests/microkit/domains: pa (domain A, priority 200) and pb (domain B, priority 100) spin
    # forever; each prints when it finds the other's mark on the shared board, so the lines
    # must alternate pa, pb, pa, ... (pb starves without domain switches); pc (domain A,
    # priority 150) prints "domain violation" if it ever runs.
    bash tests/microkit/domains/build.sh "$arch" >/dev/null
    microkit_qemu "$arch" "build/domains/$arch/loader.img"
    exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
      --panic-pattern "KERNEL PANIC" --panic-pattern "domain violation" --panic-pattern "unexpected" \
      --panic-pattern "kernel: fault" --panic-pattern "MON|ERROR" \
      --expect "initialiser: starting the domain schedule at index 1" \
      --expect "pa: slot 1 (other side had 0)" \
      --expect "pb: slot 1 (other side had 1)" \
      --expect "pa: slot 2 (other side had 1)" \
      --expect "pb: slot 2 (other side had 2)" \
      --expect "pa: slot 3 (other side had 2)" \
      --expect "pb: slot 3 (other side had 3)" \
      --expect "pa: slot 4 (other side had 3)" \
      --expect "pb: slot 4 (other side had 4)" -- \
      "${MK_QEMU[@]}"
    ;;
  *) echo "microkit boot test: unknown system '$system' (hello, pd-fault, region-paddr, template, domains)" >&2; exit 1 ;;
esac
