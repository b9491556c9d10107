#!/usr/bin/env bash
# AArch64 boot test of preemption and address-space switching: task 0 (`spinner`) never
# makes a syscall, so task 1 (`hello`, linked at the same addresses in its own VSpace with
# its own ASID) can only run because the timer tick preempts task 0 and the kernel switches
# TTBR0/ASID to task 1.
# Two independent tasks: still on the kernel's temporary bring-up path (not the kernel core)
# until the core has TCB invocations; the first expected line pins that down.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh aarch64 preempt \
  --expect "kernel: bring-up path (not the kernel core): 2 payload tasks" \
  --expect "kernel: task 1: image 0x400000" \
  --expect "spinner: spinning without syscalls" \
  --expect "hello from user mode" \
  --expect "hello: yield 3 returned"
