#!/usr/bin/env bash
# `make bench`: guest-instruction cost of the kernel's hot paths on each arch. For each arch,
# builds the kernel and two benchmark images and boots each under QEMU with `-icount shift=0`
# (one guest instruction = 1 ns of virtual time, so the user-mode counter the benchmarks read
# counts instructions; see user/sel4-bench/src/counter.rs):
#   * the root task user/sel4-bench (null syscalls, Signal+Wait, notification and
#     Call/ReplyRecv round trips), packed with the kernel like the boot tests do;
#   * the Microkit system user/microkit-bench/bench.system (PPC into an active and a passive
#     server, notify round trip), built with our SDK and `microkit` tool.
# Prints a table per arch, then one Markdown table of all (the format of docs/bench.md).
# On aarch64 the kernel of both images is built with `export-vcnt-user` (EL0 may read
# CNTVCT_EL0); the plain kernel is rebuilt afterwards so other scripts keep finding it in target/.
# Usage: bench.sh [--check] [arch...]   (default: aarch64 riscv64 x86_64)
#   --check  sanity mode for the boot tests: no tables, exit 0 iff every image printed every
#            result (the benchmarks themselves fail on a zero count) and QEMU exited by itself.
# Env: BENCH_TIMEOUT (seconds per QEMU run, default 300; 60 with --check).
# Logs: build/<arch>/bench.log, build/microkit-bench/<arch>/bench.log.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh

ROOT_OPS=(loop-overhead nbsend-invalid-cap yield signal-wait ntfn-pingpong
          call-replyrecv-active call-replyrecv-passive)
MK_OPS=(microkit-ppc-active microkit-ppc-passive microkit-notify-roundtrip)
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(aarch64 riscv64 x86_64)
timeout_s="${BENCH_TIMEOUT:-$([ "$check" = 1 ] && echo 60 || echo 300)}"
declare -A result

# run_bench ARCH PREFIX LOG IMAGE OPS...: boot IMAGE with ARCH's QEMU line plus -icount, require
# a clean exit, `PREFIX: done` and no failure line, and store `PREFIX: result OP VALUE` values.
run_bench() {
  local arch="$1" prefix="$2" log="$3" image="$4"; shift 4
  local qemu=("${QEMU[0]}" -icount shift=0 "${QEMU[@]:1}")
  [ "$check" = 1 ] || echo "bench: $arch: ${qemu[*]} $image" >&2
  local rc=0
  timeout "$timeout_s" "${qemu[@]}" "$image" </dev/null >"$log" 2>&1 || rc=$?
  # Clean exits: semihosting / sifive_test status 0; x86 isa-debug-exit (0 << 1) | 1 = 33.
  local ok_rc=0
  [ "$arch" = x86_64 ] && ok_rc=33
  if [ "$rc" != "$ok_rc" ] || grep -qE 'FAILED|KERNEL PANIC|sel4-root: panic|MON\|ERROR' "$log" \
     || ! grep -q "^$prefix: done" "$log"; then
    echo "bench: $arch: $image failed (QEMU status $rc, want $ok_rc); log $log:" >&2
    tail -n 30 "$log" | sed 's/^/  | /' >&2
    exit 1
  fi
  local op v
  for op in "$@"; do
    v=$(sed -n "s/^$prefix: result $op \([0-9][0-9]*\.[0-9]\)\r\{0,1\}\$/\1/p" "$log")
    if [ -z "$v" ]; then
      echo "bench: $arch: no result for $op in $log" >&2
      exit 1
    fi
    result[$arch,$op]=$v
  done
}

for arch in "${arches[@]}"; do
  arch_config "$arch"
  case "$arch" in
    aarch64) board=qemu_virt_aarch64 ;;
    riscv64) board=qemu_virt_riscv64 ;;
    x86_64) board=x86_64_generic ;;
  esac
  bash scripts/build-images.sh "$arch" >/dev/null
  make --no-print-directory -s -C microkit-hello ARCH="$arch" sdk >/dev/null
  cargo build --quiet --release --target "$TARGET" -p sel4-bench -p microkit-bench
  bin="target/$TARGET/release"
  out="build/$arch"
  mkdir -p "$out"

  # Kernel of the benchmark images.
  kernel="$bin/$KERNEL_BIN"
  if [ "$arch" = aarch64 ]; then
    cargo build --quiet --release --target "$TARGET" -p "$KERNEL_PKG" --features export-vcnt-user
    cp "$kernel" "$out/bench-kernel.elf"
    # Put the plain kernel back in target/ (cargo keeps both builds; this only relinks).
    cargo build --quiet --release --target "$TARGET" -p "$KERNEL_PKG"
    kernel="$out/bench-kernel.elf"
  fi

  # Root-task benchmark.
  image="$out/sel4-bench.elf"
  case "${IMAGE_KIND:-payload}" in
    multiboot) cp "$bin/sel4-bench" "$image" ;;
    *) target/release/mkimage --kernel "$kernel" --out "$image" "$bin/sel4-bench" >/dev/null ;;
  esac
  run_bench "$arch" sel4-bench "$out/bench.log" "$image" "${ROOT_OPS[@]}"

  # Microkit benchmark: an SDK copy whose kernel is the benchmark kernel.
  mk="build/microkit-bench/$arch"
  sdk="build/microkit-bench/sdk"
  elf="$sdk/board/$board/debug/elf"
  mkdir -p "$mk" "$elf"
  cp "build/sdk/board/$board/debug/elf/initialiser.elf" "$elf/"
  case "${IMAGE_KIND:-payload}" in
    multiboot) cp "build/sdk/board/$board/debug/elf/kernel32.bin" "$elf/" ;;
    *) cp "$kernel" "$elf/sel4.elf" ;;
  esac
  for pd in bench-client bench-server; do cp "$bin/$pd" "$mk/$pd.elf"; done
  cp user/microkit-bench/bench.system "$mk/"
  (cd "$mk" && MICROKIT_SDK="$PWD/../sdk" ../../sdk/bin/microkit bench.system --board "$board" \
     --config debug --image-type elf -o loader.img -r report.txt >/dev/null)
  if [ "${IMAGE_KIND:-payload}" = multiboot ]; then
    QEMU=("${QEMU[@]:0:${#QEMU[@]}-3}" -kernel "$elf/kernel32.bin" -initrd)
  fi
  run_bench "$arch" microkit-bench "$mk/bench.log" "$mk/loader.img" "${MK_OPS[@]}"

  [ "$check" = 1 ] && continue
  header=$(sed -n 's/^sel4-bench: start ([^)]*): \(.*\)\r\{0,1\}$/\1/p' "$out/bench.log")
  echo
  echo "== $arch: guest instructions per operation ($header; loop overhead subtracted)"
  for op in "${ROOT_OPS[@]}" "${MK_OPS[@]}"; do
    printf '  %-26s %10s\n' "$op" "${result[$arch,$op]}"
  done
done

if [ "$check" = 1 ]; then
  echo "bench: ${arches[*]}: every result present, QEMU exited cleanly"
  exit 0
fi
qv=$("${QEMU[0]}" --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')
echo
echo "Measured $(date -u +%Y-%m-%d), QEMU $qv, -icount shift=0 (guest instructions per operation):"
echo
printf '| operation |'; for a in "${arches[@]}"; do printf ' %s |' "$a"; done; echo
printf '|---|'; for _ in "${arches[@]}"; do printf -- '---:|'; done; echo
for op in "${ROOT_OPS[@]}" "${MK_OPS[@]}"; do
  printf '| %s |' "$op"
  for a in "${arches[@]}"; do printf ' %s |' "${result[$a,$op]}"; done
  echo
done
