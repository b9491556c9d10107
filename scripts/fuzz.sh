#!/usr/bin/env bash
# Fuzz campaign: builds the kernel and the fuzzer root task user/sel4-fuzz with the seed and
# call count baked in, boots it under QEMU (tools/qemu-test) and fails on a kernel panic, a
# reply that is no valid seL4 result (`fuzz: INVALID ...`, printed with the seed and the call
# index), a hang (timeout) or a missing final line. The coverage table is in the log.
# Usage: fuzz.sh <arch> [seed] [calls]
# Env: FUZZ_TIMEOUT (seconds, default 60 + calls/500), FUZZ_LOG (default build/<arch>/fuzz.log).
# `make fuzz ARCH=... SEED=... CALLS=...` runs it; tests/qemu/<arch>-fuzz.sh runs a short one.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh
arch="${1:?usage: fuzz.sh <arch> [seed] [calls]}"
seed="${2:-1}"
calls="${3:-20000}"
arch_config "$arch"
bash scripts/build-images.sh "$arch" >/dev/null
SEL4_FUZZ_SEED="$seed" SEL4_FUZZ_CALLS="$calls" \
  cargo build --quiet --release --target "$TARGET" -p sel4-fuzz
task="target/$TARGET/release/sel4-fuzz"
image="build/$arch/sel4-fuzz.elf"
mkdir -p "build/$arch"
case "${IMAGE_KIND:-payload}" in
  multiboot) cp "$task" "$image" ;;
  *) target/release/mkimage --kernel "target/$KERNEL_TARGET/release/$KERNEL_BIN" --out "$image" "$task" >/dev/null ;;
esac
log="${FUZZ_LOG:-build/$arch/fuzz.log}"
timeout_s="${FUZZ_TIMEOUT:-$((60 + calls / 500))}"
echo "fuzz.sh: $arch seed=$seed calls=$calls timeout=${timeout_s}s log=$log"
# Campaigns of 20000 calls and more must reach every object kind and the key methods.
holes=()
[ "$calls" -lt 20000 ] || holes=(--expect "fuzz: holes: none")
rc=0
target/release/qemu-test --timeout "$timeout_s" \
  --panic-pattern "KERNEL PANIC" --panic-pattern "FAILED" --panic-pattern "INVALID" \
  --panic-pattern "sel4-root: panic" \
  --expect "fuzz: coverage" ${holes[@]+"${holes[@]}"} \
  --expect "fuzz: done: seed=$seed calls=$calls arch=$arch" \
  -- "${QEMU[@]}" "$image" >"$log" 2>&1 || rc=$?
grep -E '^fuzz: ' "$log" | tr -d '\r' || true
tail -n 1 "$log"
exit "$rc"
