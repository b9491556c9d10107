#!/usr/bin/env bash
# Runs every test step, tallies results and prints `N passed, M failed` as its last line.
# Usage: test-all.sh [host|qemu|all]
#
# Each step is one line in the STEPS section below: a cargo test invocation (its individual
# test counts are added up) or a QEMU boot test (counts as one test). A step that cannot run
# (build failure, timeout) counts as a failure, never as a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
mkdir -p build/logs
passed=0
failed=0
failures=()

# cargo_step NAME ARGS...: run `cargo ARGS`, add its test counts.
cargo_step() {
  local name="$1"; shift
  local log="build/logs/${name}.log"
  echo "== $name: cargo $*"
  if cargo "$@" >"$log" 2>&1; then rc=0; else rc=$?; fi
  local p f
  p=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
  f=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" != 0 ]; then
    if [ "$f" = 0 ]; then failed=$((failed + 1)); fi
    failures+=("$name")
    echo "   FAILED (rc=$rc), log: $log"; tail -n 30 "$log" | sed 's/^/   | /'
  else
    echo "   ok: $p passed"
  fi
}

# script_step NAME CMD...: run a command that is one test (exit 0 = pass).
script_step() {
  local name="$1"; shift
  local log="build/logs/${name}.log"
  echo "== $name"
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1)); echo "   ok"
  else
    failed=$((failed + 1)); failures+=("$name")
    echo "   FAILED, log: $log"; tail -n 40 "$log" | sed 's/^/   | /'
  fi
}

start=$(date +%s)

# ---------------------------------------------------------------- STEPS: host
if [ "$what" = all ] || [ "$what" = host ]; then
  cargo_step host-unit test --release
fi

# ---------------------------------------------------------------- STEPS: qemu
if [ "$what" = all ] || [ "$what" = qemu ]; then
  for t in tests/qemu/*.sh; do
    [ -f "$t" ] || continue
    script_step "qemu-$(basename "$t" .sh)" bash "$t"
  done
fi

end=$(date +%s)
echo
echo "elapsed: $((end - start)) s"
if [ "${#failures[@]}" -gt 0 ]; then echo "failed steps: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
