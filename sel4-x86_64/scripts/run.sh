#!/usr/bin/env bash
# Boot the seL4-direct x86_64 example in QEMU the way the repository's x86_64 scripts do
# (scripts/arch.sh: multiboot kernel32.bin, the root task as the first module, COM1 on stdio,
# isa-debug-exit so seL4_DebugHalt ends QEMU). Builds first.
# Usage: run.sh            interactive (Ctrl-A X quits)
#        run.sh --check    boot under tools/qemu-test and require every expected line
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here/.."
bash "$here/scripts/build.sh"
. scripts/arch.sh
arch_config x86_64
image=build/x86_64/sel4-x86_64.elf
if [ "${1:-}" = "--check" ]; then
  args=(--panic-pattern "KERNEL PANIC" --panic-pattern "FAILED")
  while IFS= read -r line; do
    [ -n "$line" ] && args+=(--expect "$line")
  done < "$here/expected-output.txt"
  exec target/release/qemu-test --timeout "${BOOT_TIMEOUT:-30}" "${args[@]}" -- "${QEMU[@]}" "$image"
fi
echo "run: ${QEMU[*]} $image   (Ctrl-A X quits)"
exec "${QEMU[@]}" "$image"
