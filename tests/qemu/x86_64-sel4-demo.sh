#!/usr/bin/env bash
# x86_64 boot test: user/sel4-demo (the seL4 MCS API step by step: retype, error replies, mint,
# SchedControl, VSpace mapping, TCB configure/start, Call with cap transfer and unwrapping,
# ReplyRecv, notification binding, VMFault delivery) on the x86_64 kernel running the core.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash user/sel4-demo/boot-test.sh x86_64
