#!/usr/bin/env bash
# `make bench`: guest-instruction cost of the kernel's hot paths on each arch. Builds the kernel
# and the root task user/sel4-bench, packs them like the boot tests do, boots each under QEMU
# with `-icount shift=0` (one guest instruction = 1 ns of virtual time, so the user-mode counter
# the task reads counts instructions; see user/sel4-bench/src/counter.rs) and prints a table
# per arch, then one Markdown table of all (the format of docs/bench.md).
# On aarch64 the kernel is built with `export-vcnt-user` (EL0 may read CNTVCT_EL0); the plain
# kernel binary is rebuilt afterwards so other scripts keep finding it.
# Usage: bench.sh [--check] [arch...]   (default: aarch64 riscv64 x86_64)
#   --check  sanity mode for the boot tests: no tables, exit 0 iff every arch printed every
#            result (the task itself fails on a zero count) and QEMU exited by itself.
# Env: BENCH_TIMEOUT (seconds per arch, default 300; 60 with --check). Logs: build/<arch>/bench.log.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh

OPS=(loop-overhead nbsend-invalid-cap yield signal-wait ntfn-pingpong
     call-replyrecv-active call-replyrecv-passive)
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(aarch64 riscv64 x86_64)

declare -A result
for arch in "${arches[@]}"; do
  arch_config "$arch"
  bash scripts/build-images.sh "$arch" >/dev/null
  cargo build --quiet --release --target "$TARGET" -p sel4-bench
  task="target/$TARGET/release/sel4-bench"
  image="build/$arch/sel4-bench.elf"
  case "${IMAGE_KIND:-payload}" in
    multiboot) cp "$task" "$image" ;;
    *)
      kfeat=()
      [ "$arch" = aarch64 ] && kfeat=(--features export-vcnt-user)
      cargo build --quiet --release --target "$TARGET" -p "$KERNEL_PKG" "${kfeat[@]}"
      target/release/mkimage --kernel "target/$TARGET/release/$KERNEL_BIN" --out "$image" "$task" >/dev/null
      # Put the plain kernel back in target/ (cargo keeps both builds; this only relinks).
      [ ${#kfeat[@]} -eq 0 ] || cargo build --quiet --release --target "$TARGET" -p "$KERNEL_PKG"
      ;;
  esac
  qemu=("${QEMU[0]}" -icount shift=0 "${QEMU[@]:1}")
  log="build/$arch/bench.log"
  [ "$check" = 1 ] || echo "bench: $arch: ${qemu[*]} $image" >&2
  rc=0
  timeout "${BENCH_TIMEOUT:-$([ "$check" = 1 ] && echo 60 || echo 300)}" "${qemu[@]}" "$image" </dev/null >"$log" 2>&1 || rc=$?
  # Clean exits: semihosting / sifive_test status 0; x86 isa-debug-exit (0 << 1) | 1 = 33.
  ok_rc=0
  [ "$arch" = x86_64 ] && ok_rc=33
  if [ "$rc" != "$ok_rc" ] || grep -qE 'FAILED|KERNEL PANIC|sel4-root: panic' "$log" \
     || ! grep -q '^sel4-bench: done' "$log"; then
    echo "bench: $arch: run failed (QEMU status $rc, want $ok_rc); log $log:" >&2
    tail -n 30 "$log" | sed 's/^/  | /' >&2
    exit 1
  fi
  for op in "${OPS[@]}"; do
    v=$(sed -n "s/^sel4-bench: result $op \([0-9][0-9]*\.[0-9]\)\r\{0,1\}\$/\1/p" "$log")
    if [ -z "$v" ]; then
      echo "bench: $arch: no result for $op in $log" >&2
      exit 1
    fi
    result[$arch,$op]=$v
  done
  [ "$check" = 1 ] && continue
  header=$(sed -n 's/^sel4-bench: start ([^)]*): \(.*\)\r\{0,1\}$/\1/p' "$log")
  echo
  echo "== $arch: guest instructions per operation ($header; loop overhead subtracted)"
  for op in "${OPS[@]}"; do printf '  %-24s %10s\n' "$op" "${result[$arch,$op]}"; done
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
for op in "${OPS[@]}"; do
  printf '| %s |' "$op"
  for a in "${arches[@]}"; do printf ' %s |' "${result[$a,$op]}"; done
  echo
done
