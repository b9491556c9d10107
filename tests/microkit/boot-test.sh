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
set -euo pipefail
cd "$(dirname "$0")/../.."
arch="$1"
system="$2"
case "$arch" in
  aarch64) qemu=(qemu-system-aarch64 -machine virt -cpu cortex-a53 -m 1G -nographic -semihosting) ;;
  riscv64) qemu=(qemu-system-riscv64 -machine virt -m 1G -nographic -bios default) ;;
  *) echo "microkit boot test: unsupported arch '$arch'" >&2; exit 1 ;;
esac
cargo build --quiet --release -p qemu-test
case "$system" in
  hello)
    make --no-print-directory -s -C microkit-hello ARCH="$arch" >/dev/null
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
      "${qemu[@]}" -kernel "build/microkit-hello/$arch/loader.img"
    ;;
  pd-fault)
    bash tests/microkit/pd-fault/build.sh "$arch" >/dev/null
    exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-20}" \
      --panic-pattern "KERNEL PANIC" --panic-pattern "must not happen" --panic-pattern "kernel: fault" \
      --expect "faulter: reading unmapped address 0x100ad8" \
      --expect "MON|ERROR: faulting PD: faulter" \
      --expect "fault_addr=0x0000000000100ad8" \
      --expect "client: ppc(6, 7) answered 42" -- \
      "${qemu[@]}" -kernel "build/pd-fault/$arch/loader.img"
    ;;
  domains)
    # tests/microkit/domains: pa (domain A, priority 200) and pb (domain B, priority 100) spin
    # forever; each prints when it finds the other's mark on the shared board, so the lines
    # must alternate pa, pb, pa, ... (pb starves without domain switches); pc (domain A,
    # priority 150) prints "domain violation" if it ever runs.
    bash tests/microkit/domains/build.sh "$arch" >/dev/null
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
      "${qemu[@]}" -kernel "build/domains/$arch/loader.img"
    ;;
  *) echo "microkit boot test: unknown system '$system' (hello, pd-fault, domains)" >&2; exit 1 ;;
esac
