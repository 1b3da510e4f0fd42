#!/usr/bin/env bash
# Instructions per request on the hot paths, counted by callgrind: exact and repeatable whatever else the
# machine does, so before/after comparisons need one run each. Requests are sent one at a time over one
# keep-alive connection, after a warm-up, between a zeroing and a dump of the counters, so start-up is not
# counted. (One request at a time means every write commits alone: group commit is not amortised here.)
#
# usage: scripts/instructions.sh [--binary PATH] [--requests N] [--tokens N]
#   prints: scenario, requests, instructions per request; with --top, the 25 costliest functions too.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
binary="" requests=2000 tokens=1000 top=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --binary) binary=$2; shift 2;;
    --requests) requests=$2; shift 2;;
    --tokens) tokens=$2; shift 2;;
    --top) top=1; shift;;
    *) sed -n '2,9p' "$0" >&2; exit 2;;
  esac
done
command -v valgrind >/dev/null || { echo "valgrind not found (Debian: apt-get install -y valgrind)" >&2; exit 2; }
if [[ -z $binary ]]; then
  cargo build --profile profiling --quiet --manifest-path "$repo/Cargo.toml" --bin latchkey
  binary=$repo/target/profiling/latchkey
fi
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p latchkey-store --example seed_tokens
work=$(mktemp -d)
trap '[[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
export LATCHKEY_DATABASE_URL="sqlite://$work/latchkey.db"
export LATCHKEY_RATE_LIMIT_CLIENT=0  # 2 000 sequential requests from one client, past the default burst
secret=bench-secret-0123456789abcdef-0123456789
"$binary" migrate >/dev/null
"$binary" client add --id bench --secret "$secret" --redirect-uri http://127.0.0.1:9/cb \
  --grant-type client_credentials --scope read >/dev/null
"$repo/target/release/examples/seed_tokens" "$LATCHKEY_DATABASE_URL" bench "$tokens" 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" --dump-instr=no \
  "$binary" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 & pid=$!
until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done

# drive SCENARIO N: N requests of the scenario over one connection
drive() {
  python3 - "$port" "$secret" "$1" "$2" <<'PY'
import base64, http.client, json, sys
port, secret, scenario, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
conn = http.client.HTTPConnection("127.0.0.1", int(port))
auth = "Basic " + base64.b64encode(f"bench:{secret}".encode()).decode()
form = {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"}
def post(path, body):
    conn.request("POST", path, body, form)
    response = conn.getresponse(); data = response.read()
    assert response.status == 200, (response.status, data)
    return data
token = json.loads(post("/token", "grant_type=client_credentials&scope=read"))["access_token"]
for _ in range(n):
    if scenario == "client_credentials":
        post("/token", "grant_type=client_credentials&scope=read")
    elif scenario == "introspection":
        assert b'"active":true' in post("/introspect", "token=" + token)
    else:
        conn.request("GET", "/.well-known/openid-configuration"); r = conn.getresponse(); r.read()
        assert r.status == 200
PY
}

printf '%-18s %9s %22s\n' scenario requests instructions/request
for scenario in client_credentials introspection discovery; do
  drive "$scenario" 200
  callgrind_control --zero "$pid" >/dev/null
  drive "$scenario" "$requests"
  callgrind_control --dump="$scenario" "$pid" >/dev/null
  file=$(ls -t "$work"/callgrind.out* | head -n 1)
  total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ && !t {gsub(",", "", $1); t=$1} END {print t}')
  printf '%-18s %9s %22s\n' "$scenario" "$requests" "$(( total / requests ))"
  if [[ -n $top ]]; then
    callgrind_annotate --inclusive=no "$file" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n '3,27p' >&2
    cp "$file" "${TMPDIR:-/tmp}/latchkey-callgrind-$scenario.out"
  fi
done
