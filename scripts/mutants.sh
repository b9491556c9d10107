#!/usr/bin/env bash
# Mutation testing of kernel-core in two stages (see verified/MUTANTS.md).
#
#   stage 1: the mutants of each given file against kernel-core's tests (dev profile, low opt
#            level, incremental: a mutant rebuilds in seconds). The tests are the file's
#            narrowed kill-set from scripts/mutants-killsets.txt when it has one (only the
#            test targets that exercise that file), else every kernel-core test;
#   stage 2: only the stage-1 survivors (cargo-mutants --iterate skips what stage 1 caught)
#            against kernel-verified's lockstep refinement tests (release profile).
#
# A mutant counts as caught when either stage catches it. Each file is run on its own (its
# kill-set differs), with its results in OUTDIR/<file stem>/.
#
# Usage: scripts/mutants.sh [options] FILE...      (FILE relative to the repo, globs allowed)
#   -o OUTDIR      results (default target/mutants)
#   --sample N     run a seeded random sample of N of the file's mutants instead of all
#   --seed S       the sample's seed (default 1); the sample is a function of the mutant
#                  list (source order, `cargo mutants --list`) and S, so it is reproducible
#   --stage1-only  skip stage 2
#   --full-suite   ignore the kill-set table: every kernel-core test in stage 1
#   --in-place     mutate this tree instead of a copy (use only on a scratch copy of the repo)
#   --timeout S    stage-1 per-mutant test timeout (default 60)
#   e.g. scripts/mutants.sh kernel/core/src/cap.rs 'kernel/core/src/object/*.rs'
#        scripts/mutants.sh --sample 60 --seed 6 --stage1-only kernel/core/src/ipc.rs
# Env: MUTANTS_NICE (default 19), MUTANTS_OPT_LEVEL (stage-1 dev opt-level, default 0),
#      MUTANTS_EXTRA (more stage-1 cargo-mutants options, e.g. "--baseline skip"; arguments
#      for the test binaries need two `--`: "-- -- --skip random_ipc_scenarios" — with one,
#      `cargo test` rejects them and every mutant is reported caught).
# Needs cargo-mutants (`cargo install cargo-mutants --locked`) and python3 for --sample.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/mutants sample=0 seed=1 stage2=1 table=scripts/mutants-killsets.txt timeout=60
place=(--jobs 1 --copy-target true)
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    --sample) sample="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --stage1-only) stage2=0; shift ;;
    --full-suite) table=/dev/null; shift ;;
    --in-place) place=(--in-place); shift ;;
    --timeout) timeout="$2"; shift 2 ;;
    --) shift; break ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [options] FILE..." >&2; exit 2; }
command -v cargo-mutants >/dev/null || { echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2; exit 2; }
nice_=(nice -n "${MUTANTS_NICE:-19}")

# The test targets of FILE's kill-set that exist in this tree, one `-C --test -C NAME` pair each.
killset() {
  local line t
  line=$(grep -E "^$1:" "$table" 2>/dev/null | head -1 | cut -d: -f2-) || true
  for t in $line; do
    [ -f "kernel/core/tests/$t.rs" ] && printf '%s\n' -C --test -C "$t"
  done
}

# A regex matching exactly a seeded random sample of N of FILE's mutant names.
sample_re() {
  cargo mutants --list -p kernel-core -f "$1" 2>/dev/null | python3 -c '
import random, re, sys
names = [l.rstrip("\n") for l in sys.stdin if l.strip()]
n, seed = int(sys.argv[1]), int(sys.argv[2])
pick = sorted(random.Random(seed).sample(range(len(names)), min(n, len(names))))
esc = lambda s: re.sub(r"([\\.+*?()|\[\]{}^$#&~-])", r"\\\1", s)
print("^(" + "|".join(esc(names[i]) for i in pick) + ")$")
sys.stderr.write("sample: %d of %d mutants, seed %d\n" % (len(pick), len(names), seed))
' "$sample" "$seed"
}

total_c=0 total_m=0
for pat in "$@"; do
  for f in $pat; do
    o="$out/$(basename "$f" .rs)"; mkdir -p "$o"
    common=(-p kernel-core "${place[@]}" --build-timeout 400 -o "$o" -f "$f")
    [ "$sample" -gt 0 ] && common+=(-F "$(sample_re "$f")")
    mapfile -t ks < <(killset "$f")
    echo "== $f, stage 1: ${ks[*]:-every kernel-core test}" >&2
    CARGO_PROFILE_DEV_DEBUG=false CARGO_PROFILE_DEV_OPT_LEVEL="${MUTANTS_OPT_LEVEL:-0}" CARGO_INCREMENTAL=1 \
      "${nice_[@]}" cargo mutants "${common[@]}" --test-package kernel-core "${ks[@]}" --timeout "$timeout" ${MUTANTS_EXTRA:-} || true
    cp "$o/mutants.out/outcomes.json" "$o/stage1-outcomes.json"
    for k in caught missed timeout unviable; do cp "$o/mutants.out/$k.txt" "$o/stage1-$k.txt"; done
    s2c=0
    if [ "$stage2" = 1 ] && [ -s "$o/stage1-missed.txt" ]; then
      echo "== $f, stage 2: lockstep refinement over the stage-1 survivors" >&2
      # The depth-4 exhaustive lockstep run takes 30-60 s per mutant on a 2-core machine; the
      # nested depth-3 exhaustive run, the random 80-step sequences and the directed cases stay in.
      CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_INCREMENTAL=true \
        "${nice_[@]}" cargo mutants "${common[@]}" --iterate --test-package kernel-verified \
        --profile release --timeout 300 -- --test refinement -- --skip lockstep_exhaustive_cnode_untyped || true
      s2c=$(wc -l <"$o/mutants.out/caught.txt")
    fi
    s1c=$(wc -l <"$o/stage1-caught.txt"); s1u=$(wc -l <"$o/stage1-unviable.txt")
    miss=$(wc -l <"$o/mutants.out/missed.txt"); tmo=$(wc -l <"$o/mutants.out/timeout.txt")
    caught=$((s1c + s2c)); total_c=$((total_c + caught)); total_m=$((total_m + miss))
    echo "$f: caught $caught (stage 1: $s1c, stage 2: $s2c), missed $miss, timeout $tmo, unviable $s1u; survivors: $o/mutants.out/missed.txt"
  done
done
if [ $((total_c + total_m)) -gt 0 ]; then
  echo "score: $((1000 * total_c / (total_c + total_m) / 10)).$((1000 * total_c / (total_c + total_m) % 10)) % (caught / (caught + missed), all files)"
fi
