#!/usr/bin/env bash
# x86_64: Microkit capability sharing end to end (<cnode>, <cspace> caps used by a PD); see
# tests/microkit/capshare/boot-test.sh.
set -euo pipefail
exec bash "$(dirname "$0")/../microkit/capshare/boot-test.sh" x86_64
