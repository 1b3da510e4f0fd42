#!/usr/bin/env bash
# Runs each fuzz target for a bounded time and prints what it did.
#
#   scripts/fuzz.sh [SECONDS] [TARGET ...]     # 600 s each, every target, by default
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). Inputs found along the way
# go to fuzz/corpus-run/ (the committed seeds are in fuzz/corpus/); a crash leaves its input in
# fuzz/artifacts/TARGET/ and makes the script fail.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-600}"
shift || true
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

cargo +nightly fuzz build
summary=()
for target in "${targets[@]}"; do
  mkdir -p "corpus-run/$target"
  log="corpus-run/$target.log"
  echo "== $target: ${seconds} s"
  if ! cargo +nightly fuzz run "$target" "corpus-run/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "error: $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  runs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}')
  coverage=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
  corpus=$(find "corpus-run/$target" -type f | wc -l)
  summary+=("$(printf '%-18s %6s s %12s runs %7s edges %6s inputs' "$target" "$seconds" "$runs" "$coverage" "$corpus")")
done
echo; printf '%s\n' "${summary[@]}"
