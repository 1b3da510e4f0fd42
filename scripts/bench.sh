#!/usr/bin/env bash
# Load figures for Latchkey's hot paths, in one table. Builds the release binary, starts it on a fresh
# database (SQLite, or PostgreSQL with --postgres), seeds token records through the store in batched
# transactions, then measures client_credentials, introspection and discovery: with the side-by-side
# comparison script when it is there (it adds node-oidc-provider and a limit probe, measured in the same
# run), with plain wrk runs otherwise. docs/PERFORMANCE.md says how to read the result.
#
# usage: scripts/bench.sh [--tokens N] [--postgres URL] [--seconds S] [--connections C] [--binary PATH]
#   --tokens N        token records stored before the load (default 1000)
#   --postgres URL    a PostgreSQL server; a fresh database is made on it and dropped afterwards
#   --binary PATH     measure this latchkey binary instead of building the release one (before/after runs)
#   LATCHKEY_COMPARE  the comparison script (default ../shared/bench/compare.sh next to the repository)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tokens=1000 postgres="" seconds=10 connections=32 binary=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --tokens) tokens=$2; shift 2;;
    --postgres) postgres=$2; shift 2;;
    --seconds) seconds=$2; shift 2;;
    --connections) connections=$2; shift 2;;
    --binary) binary=$2; shift 2;;
    *) sed -n '2,13p' "$0" >&2; exit 2;;
  esac
done
command -v wrk >/dev/null || { echo "wrk not found (Debian: apt-get install -y wrk)" >&2; exit 2; }
compare=${LATCHKEY_COMPARE:-$repo/../shared/bench/compare.sh}

if [[ -z $binary ]]; then
  cargo build --release --quiet --manifest-path "$repo/Cargo.toml" --bin latchkey
  binary=$repo/target/release/latchkey
fi
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p latchkey-store --example seed_tokens
seed=$repo/target/release/examples/seed_tokens

work=$(mktemp -d)
cleanup() {
  [[ -n ${server_pid:-} ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -n ${sampler_pid:-} ]] && kill "$sampler_pid" 2>/dev/null
  [[ -n ${dbname:-} ]] && psql -q "$postgres" -c "DROP DATABASE IF EXISTS $dbname" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

if [[ -n $postgres ]]; then
  dbname=latchkey_bench_$$
  psql -q "$postgres" -c "CREATE DATABASE $dbname" >/dev/null
  url="${postgres%/*}/$dbname"
  backend=postgres
else
  url="sqlite://$work/latchkey.db"
  backend=sqlite
fi
export LATCHKEY_DATABASE_URL=$url
# One client sends the whole load, far past the default per-client limit (60 000 a minute): a deployment
# expecting that from one client raises or lifts it, as here.
export LATCHKEY_RATE_LIMIT_CLIENT=0
secret=bench-secret-0123456789abcdef-0123456789
"$binary" migrate >/dev/null
"$binary" client add --id bench --secret "$secret" --redirect-uri http://127.0.0.1:9/cb \
  --grant-type client_credentials --scope read >/dev/null
"$seed" "$url" bench "$tokens" 2>"$work/seed.log"
seeded=$(cat "$work/seed.log")
# The seed leaves hundreds of megabytes for the kernel to write back; let it, so that the cold start below
# measures the server and not the disk catching up.
sync

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
started=$(date +%s%N)
"$binary" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 & server_pid=$!
until curl -sf "$base/readyz" >/dev/null; do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.005
done
cold_ms=$(( ($(date +%s%N) - started) / 1000000 ))
sleep 1
rss() { echo $(( $(ps -o rss= -p "$server_pid") / 1024 )); }
idle=$(rss)
# The peak resident memory under load, sampled every 200 ms.
(peak=0; while kill -0 "$server_pid" 2>/dev/null; do
   now=$(ps -o rss= -p "$server_pid" || echo 0); (( now > peak )) && peak=$now && echo $(( peak / 1024 )) >"$work/peak"
   sleep 0.2; done) & sampler_pid=$!

declare -A rps p50 p99 errors vs_peer of_limit
if [[ -x $compare ]]; then
  LATCHKEY_PID=$server_pid "$compare" "$base" bench "$secret" "$seconds" "$connections" | tee "$work/compare.out" >&2
  while read -r scenario a a50 a99 ae _ _ _ _ _ _ _ _ ratio share; do
    [[ $scenario =~ ^(client_credentials|introspection|discovery)$ ]] || continue
    rps[$scenario]=$a p50[$scenario]=$a50 p99[$scenario]=$a99 errors[$scenario]=$ae
    vs_peer[$scenario]=$ratio of_limit[$scenario]=$share
  done <"$work/compare.out"
else
  echo "no comparison script at $compare: Latchkey alone" >&2
  basic=$(printf 'bench:%s' "$secret" | base64 -w0)
  access=$(curl -sf -u "bench:$secret" -d grant_type=client_credentials -d scope=read "$base/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  script() { printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\nwrk.headers["Authorization"] = "Basic %s"\nwrk.body = "%s"\n' "$basic" "$1" >"$work/$2.lua"; }
  script "grant_type=client_credentials&scope=read" cc
  script "token=$access" in
  for scenario in client_credentials introspection discovery; do
    case $scenario in
      client_credentials) target=("$base/token" -s "$work/cc.lua");;
      introspection) target=("$base/introspect" -s "$work/in.lua");;
      discovery) target=("$base/.well-known/openid-configuration");;
    esac
    wrk -t1 -c"$connections" -d2s "${target[@]}" >/dev/null 2>&1 || true
    out=$(wrk -t1 -c"$connections" -d"${seconds}s" --latency "${target[@]}")
    rps[$scenario]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50[$scenario]=$(awk '$1=="50%" {print $2}' <<<"$out"); p99[$scenario]=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors[$scenario]=$(awk '/Non-2xx/ {print $5}' <<<"$out"); errors[$scenario]=${errors[$scenario]:-0}
    vs_peer[$scenario]=- of_limit[$scenario]=-
  done
fi
peak=$(cat "$work/peak" 2>/dev/null || echo "$idle")

echo
echo "Latchkey $("$binary" --version 2>/dev/null | awk '{print $2}') on $backend, $(nproc) cores, $connections connections, ${seconds}s a scenario"
echo "seeded: $seeded; cold start to /readyz: ${cold_ms} ms; RSS idle ${idle} MB, peak under load ${peak} MB"
printf '| %-18s | %13s | %10s | %8s | %8s | %6s | %8s | %7s | %8s |\n' scenario "tokens stored" "req/s" p50 p99 errors "RSS MB" vs_peer of_limit
printf '| %-18s | %13s | %10s | %8s | %8s | %6s | %8s | %7s | %8s |\n' --- ---: ---: ---: ---: ---: ---: ---: ---:
for scenario in client_credentials introspection discovery; do
  printf '| %-18s | %13s | %10s | %8s | %8s | %6s | %8s | %7s | %8s |\n' "$scenario" "$tokens" "${rps[$scenario]}" \
    "${p50[$scenario]}" "${p99[$scenario]}" "${errors[$scenario]}" "$peak" "${vs_peer[$scenario]}" "${of_limit[$scenario]}"
done
