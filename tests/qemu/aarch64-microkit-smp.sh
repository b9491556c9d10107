#!/usr/bin/env bash
# aarch64: a Microkit system on four cores (docs/smp.md, "Microkit"): tests/microkit/smp builds
# the SDK's smp-debug configuration (the multicore kernel, CONFIG_MAX_NUM_NODES=4) and
# microkit-hello's PDs placed by `cpu`: driver on core 0, passive server on core 1, client on
# core 2, reader on core 3. The initialiser configures each PD's SC through its core's
# SchedControl cap. Checked, one line per PD: the PPC from core 2 to
# the server of core 1 (the server's answer and the client's), the notification and shared
# memory from core 2 to core 3 (the reader's line), the RTC interrupt on core 0 (the driver's
# second ack; it takes guest seconds, so it comes last). Lines printed at the same time on
# several cores interleave character by character, so the PDs' `init` lines are not checked.
# Not checked: the client's notification of the server, which races with the monitor's
# passive switch of the server (docs/smp.md, "Microkit"). Run with -icount like
# tests/qemu/aarch64-smp.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/microkit-qemu.sh
cargo build --quiet --release -p qemu-test
bash tests/microkit/smp/build.sh >/dev/null
microkit_qemu aarch64 build/microkit-smp/aarch64/loader.img
exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-60}" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "MON|ERROR" --panic-pattern "kernel: fault" \
  --panic-pattern "initialiser: ERROR" --panic-pattern "unexpected" --panic-pattern "not mapped" \
  --expect "kernel: config: CONFIG_NUM_DOMAINS=1 CONFIG_KERNEL_MCS=1 CONFIG_DEBUG_BUILD=1 CONFIG_PRINTING=1 CONFIG_MAX_NUM_NODES=4" \
  --expect "kernel: 4 cores up" \
  --expect "initialiser: starting PD 'server' (priority 200, passive, cpu 1)" \
  --expect "initialiser: starting PD 'driver' (priority 150)" \
  --expect "initialiser: starting PD 'client' (priority 100, cpu 2)" \
  --expect "initialiser: starting PD 'reader' (priority 90, cpu 3)" \
  --expect "server: ppc on channel 0 (label 1), answering 42" \
  --expect "client: ppc(6, 7) answered 42 (1 MR)" \
  --expect "shared memory: read 'hello'" \
  --expect "driver: irq acked (2 of 2)" \
  -- "${MK_QEMU[@]}" -smp 4 -icount shift=0
