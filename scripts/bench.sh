#!/usr/bin/env bash
# `make bench`: guest-instruction cost of the kernel's hot paths on each arch. For each arch,
# builds the kernel and two benchmark images and boots each under QEMU with `-icount shift=0`
# (one guest instruction = 1 ns of virtual time, so the user-mode counter the benchmarks read
# counts instructions; see user/sel4-bench/src/counter.rs):
#   * the root task user/sel4-bench (null syscalls, Signal+Wait, notification and
#     Call/ReplyRecv round trips, and the worst interrupt latency seen while another thread
#     revokes a cap tree of 10, 1,000 and 100,000 caps), packed with the kernel like the boot
#     tests do;
#   * the Microkit system user/microkit-bench/bench.system (PPC into an active and a passive
#     server, notify round trip), built with our SDK and `microkit` tool.
# Prints a table per arch, then one Markdown table of all (the format of docs/bench.md). Each
# row shows our count, real seL4's figure for the same operation on the same QEMU (parsed from
# ../shared/reference/perf-anchors.md relative to the repository, when that file exists) and
# the ratio ours / seL4.
# Benchmark kernel: when the arch's kernel package has a `benchmark` cargo feature (seL4's
# CONFIG_ENABLE_BENCHMARKS build; on aarch64 it also exports CNTVCT_EL0 to EL0), both images
# use the kernel built with it and the root task is built with SEL4_BENCH_FLOOR=1, so it
# measures the `floor` row: seL4_BenchmarkNullSyscall, which that kernel answers in its trap
# entry (a trap that does nothing but return). The plain kernel is rebuilt afterwards so other
# scripts keep finding it in target/.
# Usage: bench.sh [--check] [arch...]   (default: aarch64 riscv64 x86_64)
#   --check  sanity mode for the boot tests: no tables, exit 0 iff every image printed every
#            result (the benchmarks themselves fail on a zero count) and QEMU exited by itself.
# Env: BENCH_TIMEOUT (seconds per QEMU run, default 300; 180 with --check: the interrupt-latency
# rows take tens of seconds on a loaded machine); PERF_ANCHORS (the
# seL4 figures file, default ../shared/reference/perf-anchors.md).
# Logs: build/<arch>/bench.log, build/microkit-bench/<arch>/bench.log.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/arch.sh

ROOT_OPS=(loop-overhead nbsend-invalid-cap yield signal-wait ntfn-pingpong
          call-replyrecv-active call-replyrecv-passive
          irq-latency-revoke-10 irq-latency-revoke-1000 irq-latency-revoke-100000)
# Rows only a benchmark kernel has (absent results are printed as "-").
FLOOR_OPS=(floor)
MK_OPS=(microkit-ppc-active microkit-ppc-passive microkit-notify-roundtrip)
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(aarch64 riscv64 x86_64)
timeout_s="${BENCH_TIMEOUT:-$([ "$check" = 1 ] && echo 180 || echo 300)}"
declare -A result
declare -A anchor

# Real seL4's figures: perf-anchors.md rows are `| <operation text> | <aarch64> | ... |`
# (AArch64 table) and `| <operation text> | <riscv64 seL4> | <riscv64 ours> | <x86_64 seL4> |
# <x86_64 ours> |`. Map our row names onto its operation texts.
anchors_file="${PERF_ANCHORS:-../shared/reference/perf-anchors.md}"
anchor_row() { # anchor_row OP: the start of the perf-anchors.md operation text for OP
  case "$1" in
    nbsend-invalid-cap) echo '`seL4_NBSend` on an empty slot' ;;
    yield) echo '`seL4_Yield`' ;;
    ntfn-pingpong) echo '' ;;
    call-replyrecv-active) echo 'raw `seL4_Call` → `seL4_ReplyRecv`, active' ;;
    call-replyrecv-passive) echo 'raw `seL4_Call` (empty message) → `seL4_ReplyRecv`, passive|raw `seL4_Call` → `seL4_ReplyRecv`, passive' ;;
    microkit-ppc-active) echo '`microkit_ppcall`, **active**|`microkit_ppcall`, active' ;;
    microkit-ppc-passive) echo '`microkit_ppcall` → `protected` → reply, **passive**|`microkit_ppcall`, passive' ;;
    microkit-notify-roundtrip) echo '`microkit_notify`|notify round trip' ;;
    *) echo '' ;;
  esac
}
if [ -f "$anchors_file" ]; then
  for op in "${ROOT_OPS[@]}" "${MK_OPS[@]}"; do
    pats=$(anchor_row "$op")
    [ -n "$pats" ] || continue
    IFS='|' read -r -a alts <<<"$pats"
    for pat in "${alts[@]}"; do
      # The first table (## AArch64) has one seL4 column; the second (## RISC-V 64 and
      # x86_64) has seL4 in columns 1 and 3.
      while IFS= read -r line; do
        IFS='|' read -r -a cols <<<"$line"
        name="${cols[1]# }"
        [ "${name#"$pat"}" != "$name" ] || continue
        num() { tr -d ' ,' <<<"$1"; }
        if [ "${#cols[@]}" -le 4 ]; then
          anchor[aarch64,$op]=$(num "${cols[2]}")
        else
          anchor[riscv64,$op]=$(num "${cols[2]}")
          anchor[x86_64,$op]=$(num "${cols[4]}")
        fi
      done < <(grep '^| ' "$anchors_file")
    done
  done
fi

# cell ARCH OP: "ours" or "ours (seL4 N, ×R)" for the tables.
cell() {
  local v="${result[$1,$2]:--}" a="${anchor[$1,$2]:-}"
  if [ -n "$a" ] && [ "$v" != - ]; then
    printf '%s (seL4 %s, %s×)' "$v" "$a" "$(awk -v o="$v" -v s="$a" 'BEGIN { printf "%.2f", o / s }')"
  else
    printf '%s' "$v"
  fi
}

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
  local op v optional=0
  for op in "$@"; do
    if [ "$op" = -- ]; then optional=1; continue; fi
    v=$(sed -n "s/^$prefix: result $op \([0-9][0-9]*\.[0-9]\)\r\{0,1\}\$/\1/p" "$log")
    if [ -z "$v" ] && [ "$optional" = 1 ]; then continue; fi
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
  bin="target/$TARGET/release"
  out="build/$arch"
  mkdir -p "$out"

  # Kernel of the benchmark images: the `benchmark` build when the package has one.
  kernel="target/$KERNEL_TARGET/release/$KERNEL_BIN"
  manifest=$(grep -l "^name = \"$KERNEL_PKG\"" platform/*/Cargo.toml | head -n1)
  floor=""
  if grep -q '^benchmark *=' "$manifest"; then
    build_kernel --features benchmark
    cp "$kernel" "$out/bench-kernel.elf"
    # Put the plain kernel back in target/ (cargo keeps both builds; this only relinks).
    build_kernel
    kernel="$out/bench-kernel.elf"
    floor=1
  fi
  # The root task measures the floor row only against a benchmark kernel (another kernel
  # would treat seL4_BenchmarkNullSyscall as an unknown syscall).
  SEL4_BENCH_FLOOR="$floor" cargo build --quiet --release --target "$TARGET" -p sel4-bench -p microkit-bench
  if [ "${IMAGE_KIND:-payload}" = multiboot ] && [ -n "$floor" ]; then
    objcopy="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-objcopy"
    "$objcopy" -O binary "$kernel" "$out/bench-kernel32.bin"
    for i in "${!QEMU[@]}"; do
      [ "${QEMU[$i]}" = build/x86_64/kernel32.bin ] && QEMU[$i]="$out/bench-kernel32.bin"
    done
  fi

  # Root-task benchmark.
  image="$out/sel4-bench.elf"
  case "${IMAGE_KIND:-payload}" in
    multiboot) cp "$bin/sel4-bench" "$image" ;;
    *) target/release/mkimage --kernel "$kernel" --out "$image" "$bin/sel4-bench" >/dev/null ;;
  esac
  run_bench "$arch" sel4-bench "$out/bench.log" "$image" "${ROOT_OPS[@]}" -- "${FLOOR_OPS[@]}"

  # Microkit benchmark: an SDK copy whose kernel is the benchmark kernel.
  mk="build/microkit-bench/$arch"
  sdk="build/microkit-bench/sdk"
  elf="$sdk/board/$board/debug/elf"
  mkdir -p "$mk" "$elf"
  cp "build/sdk/board/$board/debug/elf/initialiser.elf" "$elf/"
  case "${IMAGE_KIND:-payload}" in
    multiboot)
      if [ -n "$floor" ]; then cp "$out/bench-kernel32.bin" "$elf/kernel32.bin"
      else cp "build/sdk/board/$board/debug/elf/kernel32.bin" "$elf/"; fi ;;
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
  printf '  %-26s %10s %10s %7s\n' operation ours seL4 ratio
  for op in "${FLOOR_OPS[@]}" "${ROOT_OPS[@]}" "${MK_OPS[@]}"; do
    v="${result[$arch,$op]:--}" a="${anchor[$arch,$op]:-}"
    r=""
    if [ -n "$a" ] && [ "$v" != - ]; then r=$(awk -v o="$v" -v s="$a" 'BEGIN { printf "%.2fx", o / s }'); fi
    printf '  %-26s %10s %10s %7s\n' "$op" "$v" "${a:--}" "${r:--}"
  done
done

if [ "$check" = 1 ]; then
  echo "bench: ${arches[*]}: every result present, QEMU exited cleanly"
  exit 0
fi
qv=$("${QEMU[0]}" --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')
echo
echo "Measured $(date -u +%Y-%m-%d), QEMU $qv, -icount shift=0 (guest instructions per operation$(
  [ -f "$anchors_file" ] && echo '; in brackets: real seL4 on the same QEMU and ours / seL4'
  )):"
echo
printf '| operation |'; for a in "${arches[@]}"; do printf ' %s |' "$a"; done; echo
printf '|---|'; for _ in "${arches[@]}"; do printf -- '---:|'; done; echo
for op in "${FLOOR_OPS[@]}" "${ROOT_OPS[@]}" "${MK_OPS[@]}"; do
  printf '| %s |' "$op"
  for a in "${arches[@]}"; do printf ' %s |' "$(cell "$a" "$op")"; done
  echo
done
