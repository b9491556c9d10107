#!/usr/bin/env bash
# riscv64: the kernel-core demo root task user/sel4-demo (boot info, Untyped_Retype and its error
# replies, SchedControl, Mint, page-table mapping, a second thread in its own CSpace,
# Call/ReplyRecv with a badge and a granted cap, notification, a VM fault caught on the fault
# endpoint); every line of user/sel4-demo/expected-output.txt, in order, see its boot-test.sh.
set -euo pipefail
exec bash "$(dirname "$0")/../../user/sel4-demo/boot-test.sh" riscv64
