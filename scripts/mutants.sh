#!/usr/bin/env bash
# Mutation testing of kernel-core in two stages (see verified/MUTANTS.md).
#
#   stage 1: every mutant of the given files against kernel-core's own tests (dev profile,
#            incremental: a mutant rebuilds in seconds);
#   stage 2: only the stage-1 survivors (cargo-mutants --iterate skips what stage 1 caught)
#            against kernel-verified's lockstep refinement tests (release profile).
#
# A mutant counts as caught when either stage catches it, so the result equals one run with
# the union of both test sets as the kill-set, at a fraction of the time.
#
# Usage: scripts/mutants.sh [-o OUTDIR] FILE...      (FILE relative to the repo, globs allowed)
#   e.g. scripts/mutants.sh kernel/core/src/cap.rs 'kernel/core/src/object/*.rs'
# Needs cargo-mutants (`cargo install cargo-mutants --locked`).
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/mutants
if [ "${1:-}" = "-o" ]; then out="$2"; shift 2; fi
[ $# -gt 0 ] || { echo "usage: $0 [-o OUTDIR] FILE..." >&2; exit 2; }
command -v cargo-mutants >/dev/null || { echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2; exit 2; }

files=()
for f in "$@"; do files+=(-f "$f"); done
common=(-p kernel-core --jobs 1 --copy-target true --build-timeout 400 -o "$out")
mkdir -p "$out"

echo "== stage 1: kernel-core tests over every mutant" >&2
CARGO_PROFILE_DEV_DEBUG=false CARGO_INCREMENTAL=1 \
  nice -n 10 cargo mutants "${common[@]}" "${files[@]}" --test-package kernel-core --timeout 60 || true
cp "$out/mutants.out/outcomes.json" "$out/stage1-outcomes.json"
for k in caught missed timeout unviable; do cp "$out/mutants.out/$k.txt" "$out/stage1-$k.txt"; done

echo "== stage 2: lockstep refinement over the stage-1 survivors" >&2
# The depth-4 exhaustive lockstep run takes 30-60 s per mutant on a 2-core machine; the
# nested depth-3 exhaustive run, the random 80-step sequences and the directed cases stay in.
CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_INCREMENTAL=true \
  nice -n 10 cargo mutants "${common[@]}" "${files[@]}" --iterate --test-package kernel-verified \
  --profile release --timeout 300 -- --test refinement -- --skip lockstep_exhaustive_cnode_untyped || true

s1c=$(wc -l <"$out/stage1-caught.txt"); s1u=$(wc -l <"$out/stage1-unviable.txt")
s2c=$(wc -l <"$out/mutants.out/caught.txt"); miss=$(wc -l <"$out/mutants.out/missed.txt")
tmo=$(wc -l <"$out/mutants.out/timeout.txt")   # stage-1 timeouts are retried in stage 2
caught=$((s1c + s2c))
echo "caught $caught (stage 1: $s1c, stage 2: $s2c), missed $miss, timeout $tmo, unviable $s1u"
if [ $((caught + miss)) -gt 0 ]; then
  echo "score: $((1000 * caught / (caught + miss) / 10)).$((1000 * caught / (caught + miss) % 10)) % (caught / (caught + missed))"
fi
echo "survivors: $out/mutants.out/missed.txt"
