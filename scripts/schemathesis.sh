#!/usr/bin/env bash
# Drives docs/openapi.yaml against a running server with schemathesis: the admin API with the admin token,
# then the owner token API with a personal token. Fails on any 5xx and on any answer the document does not
# describe (status, content type, body schema), and on a request the document forbids being accepted.
#
#   scripts/schemathesis.sh [EXAMPLES]        # 100 examples per operation by default
#
# The semantic rules of a valid request (a name not yet taken, a TTL like "30d", a cursor from an earlier
# page) are beyond what the document's schemas say, so a schema-valid request refused with a documented 400,
# 404 or 409 is not counted against it (`positive_data_acceptance` is left out).
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${1:-100}"
venv="${SCHEMATHESIS_VENV:-target/schemathesis-venv}"
[ -x "$venv/bin/schemathesis" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q schemathesis; }
cargo build --release --bin latchkey
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
export LATCHKEY_ADMIN_TOKEN="admin-$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
export LATCHKEY_RATE_LIMIT_CLIENT=0 LATCHKEY_RATE_LIMIT_ADDRESS=0 LATCHKEY_RATE_LIMIT_PERSONAL_TOKENS=0
(cd "$work" && exec "$OLDPWD/target/release/latchkey" serve --bind "127.0.0.1:$port" --demo >server.log 2>&1) &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done

admin=(-H "Authorization: Bearer $LATCHKEY_ADMIN_TOKEN" -H "content-type: application/json")
curl -sf "${admin[@]}" -d '{"username":"owner","password":"a long enough password"}' "$url/admin/users" >/dev/null
run() {
  "$venv/bin/schemathesis" run docs/openapi.yaml --url "$url" --checks all \
    --exclude-checks positive_data_acceptance --max-examples "$examples" --workers 1 --no-color "$@"
}
run -H "Authorization: Bearer $LATCHKEY_ADMIN_TOKEN" --include-path-regex '^/admin'
# The admin run may have revoked the first user's tokens: the owner API gets a user of its own.
curl -sf "${admin[@]}" -d '{"username":"owner2","password":"a long enough password"}' "$url/admin/users" >/dev/null
personal=$(curl -sf "${admin[@]}" -d '{"username":"owner2","name":"schemathesis","scopes":["latchkey:tokens"],"ttl":"1d"}' \
  "$url/admin/tokens" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
run -H "Authorization: Bearer $personal" --include-path-regex '^/api'
