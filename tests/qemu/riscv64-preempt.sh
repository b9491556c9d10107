#!/usr/bin/env bash
# RISC-V 64 boot test of preemption through the kernel core. The root task (`spinner`) runs
# a long loop without any syscall, so the kernel is entered only by timer interrupts taken
# from U-mode (each one goes to the core's handle_timer, which round-robins and resumes the
# thread). The ticks must be reported while the loop runs (0 yields so far), and afterwards
# the loop's result must match the closed-form value, so preemption preserved the thread's
# registers. (A second, independent thread needs TCB invocations, which the core does not
# have yet; the address-space switch between two VSpaces is therefore not covered here.)
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/boot-test.sh riscv64 preempt \
  --panic-pattern "KERNEL PANIC" --panic-pattern "spinner: ERROR" \
  --expect "kernel: root task: image 0x400000" \
  --expect "spinner: spinning without syscalls" \
  --expect "timer: 10 ticks (0 yields)" \
  --expect "timer: 100 ticks (0 yields)" \
  --expect "matches the closed form"
