#!/usr/bin/env bash
# Runs each fuzz target for a bounded time and prints what it did.
#
#   scripts/fuzz.sh [SECONDS] [TARGET ...]     # 600 s each, every target, by default
#   scripts/fuzz.sh --build-only               # build the targets, run nothing
#
# Needs only the nightly toolchain: the targets are built as `cargo fuzz build` builds them (libFuzzer with
# SanitizerCoverage), and `cargo +nightly fuzz run TARGET` works on them as well. Set FUZZ_SANITIZER=address
# to add AddressSanitizer, FUZZ_PROFILE=fuzz-ci for the quicker build `.ci/run` uses. Inputs found along the
# way go to fuzz/corpus-run/ (the committed seeds are in fuzz/corpus/); a crash leaves its input in
# fuzz/artifacts/TARGET/ and makes the script fail.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

build_only=false
if [ "${1:-}" = --build-only ]; then
  build_only=true
  shift
fi
seconds="${1:-600}"
shift || true
profile="${FUZZ_PROFILE:-release}"
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^latchkey-fuzz$')
fi

flags=(
  -Cpasses=sancov-module
  -Cllvm-args=-sanitizer-coverage-level=4
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
  -Cllvm-args=-sanitizer-coverage-pc-table
  -Cllvm-args=-sanitizer-coverage-trace-compares
  -Cllvm-args=-sanitizer-coverage-stack-depth
  -Cllvm-args=-simplifycfg-branch-fold-threshold=0
  --cfg fuzzing
  -Cdebug-assertions
)
if [ "${FUZZ_SANITIZER:-}" = address ]; then
  flags+=(-Zsanitizer=address)
fi
# --target keeps build scripts and proc macros out of the instrumentation.
RUSTFLAGS="${flags[*]}" cargo +nightly build --profile "$profile" --target "$host" --bins
bin="target/$host/$profile"
if "$build_only"; then
  exit 0
fi

summary=()
for target in "${targets[@]}"; do
  mkdir -p "corpus-run/$target" "artifacts/$target"
  log="corpus-run/$target.log"
  echo "== $target: ${seconds} s"
  if ! "$bin/$target" "corpus-run/$target" "corpus/$target" -artifact_prefix="artifacts/$target/" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "error: $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  runs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}')
  coverage=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
  inputs=$(find "corpus-run/$target" -type f | wc -l)
  summary+=("$(printf '%-18s %6s s %12s runs %7s edges %6s inputs' "$target" "$seconds" "$runs" "$coverage" "$inputs")")
done
echo
printf '%s\n' "${summary[@]}"
