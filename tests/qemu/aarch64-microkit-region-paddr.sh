#!/usr/bin/env bash
# aarch64: `setvar region_paddr` on regions the initialiser allocates at boot: the PD has QEMU's
# fw_cfg device DMA into each region by the physical address it was given and reads the bytes
# back through its own mapping; see tests/microkit/boot-test.sh (region-paddr).
set -euo pipefail
exec bash "$(dirname "$0")/../microkit/boot-test.sh" aarch64 region-paddr
