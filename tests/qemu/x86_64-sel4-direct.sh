#!/usr/bin/env bash
# x86_64 boot test: the "seL4 direct" root-task example (sel4-x86_64/): IOPort output to COM1,
# two threads with their own SCs, client/server Call/ReplyRecv with badges, a bound
# notification ending the server's receive, and the server's VMFault caught by the root task.
# Requires every line of sel4-x86_64/expected-output.txt in order.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash sel4-x86_64/scripts/run.sh --check
