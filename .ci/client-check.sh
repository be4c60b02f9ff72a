#!/usr/bin/env bash
# Generated-client checks: generate a Python client from openapi/openapi.json with
# openapi-python-client and TypeScript types with openapi-typescript (used through
# openapi-fetch, type-checked by `tsc --noEmit`, strict), start the release server on a free
# loopback port with a fresh SQLite database, and run a county-bureau scenario with each:
# .ci/client_check.py, then .ci/ts-client/scenario.ts (versions pinned in its
# package-lock.json; `npm ci` from the npm registry).
#
# Usage: bash .ci/client-check.sh            (from any directory)
# Env:   CI_WORK          scratch directory (default .ci/work, git-ignored)
#        CI_SERVER_PROFILE release (default) or dev: `dev` reuses most of the debug build
#                         that `cargo test` made (about 2 min instead of a cold release build)
#        CANTEEN_BIN      use this server binary instead of building one
#        OPENAPI_SPEC     generate from this document instead (diagnostics only)
#        CARGO_TARGET_DIR honoured as usual by cargo
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${CI_WORK:-$ROOT/.ci/work}
OPC_VERSION=0.29.1
PKG=canteen_ledger_client
SPEC=${OPENAPI_SPEC:-$ROOT/openapi/openapi.json}
mkdir -p "$WORK"

T0=$SECONDS
step() { printf '  [client-check +%ds] %s\n' "$((SECONDS - T0))" "$*"; }

# --- Python tools, in a venv under the ignored work directory --------------------------
VENV=$WORK/venv
if ! "$VENV/bin/openapi-python-client" --version 2>/dev/null | grep -q "$OPC_VERSION"; then
    step "creating venv with openapi-python-client $OPC_VERSION"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "openapi-python-client==$OPC_VERSION"
fi
export PATH="$VENV/bin:$PATH" # the generator's post-hooks run `ruff` from PATH
"$VENV/bin/openapi-python-client" --version

# --- Generate the client ----------------------------------------------------------------
GEN=$WORK/client
rm -rf "$GEN"
mkdir -p "$GEN"
step "generating $PKG from ${SPEC#"$ROOT"/}"
openapi-python-client generate \
    --path "$SPEC" \
    --output-path "$GEN/$PKG" \
    --meta none \
    --config "$ROOT/.ci/openapi-python-client.yaml" \
    --overwrite \
    --fail-on-warning
test -f "$GEN/$PKG/client.py" || { echo "generation produced no $GEN/$PKG/client.py" >&2; exit 1; }

# --- Server binary ------------------------------------------------------------------------
if [[ -n "${CANTEEN_BIN:-}" ]]; then
    BIN=$CANTEEN_BIN
else
    case "${CI_SERVER_PROFILE:-release}" in
        release) step "cargo build --release --locked"; cargo build --release --locked; dir=release ;;
        dev) step "cargo build --locked"; cargo build --locked; dir=debug ;;
        *) echo "CI_SERVER_PROFILE must be release or dev" >&2; exit 2 ;;
    esac
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/$dir/canteen-ledger
fi
test -x "$BIN" || { echo "no server binary at $BIN" >&2; exit 1; }

# --- Start the server on a free loopback port --------------------------------------------
RUN=$(mktemp -d "$WORK/server.XXXXXX")
SERVER_PID=
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE_URL=http://127.0.0.1:$PORT
step "starting $BIN serve on $BASE_URL (SQLite $RUN/ci.db)"
env -u JWT_SECRET DATABASE_URL="$RUN/ci.db" BIND="127.0.0.1:$PORT" WORKERS=2 RUST_LOG=warn \
    "$BIN" serve </dev/null >"$RUN/server.log" 2>&1 &
SERVER_PID=$!

server_failed() {
    echo "--- server log ($RUN/server.log) ---" >&2
    sed -E 's/^(    password: ).*/\1<redacted>/' "$RUN/server.log" >&2 || true
    echo "FAIL generated-client check: $*" >&2
    exit 1
}

# Ready when /readyz answers 200 (within 60 s).
ready=
for _ in $(seq 600); do
    kill -0 "$SERVER_PID" 2>/dev/null || server_failed "the server exited before it was ready"
    if python3 - "$BASE_URL/readyz" <<'EOF' 2>/dev/null; then
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
        ready=1
        break
    fi
    sleep 0.1
done
[[ -n "$ready" ]] || server_failed "GET /readyz did not answer 200 within 60 s"

ADMIN_PASSWORD=$(sed -nE 's/^    password: (.+)$/\1/p' "$RUN/server.log" | head -n 1)
[[ -n "$ADMIN_PASSWORD" ]] || server_failed "no bootstrap admin password ('    password: …') on the server's stdout"
step "server ready (pid $SERVER_PID); running .ci/client_check.py"

# A scenario that failed: the server's last lines (its admin password redacted), then its code.
fail_with_server_log() {
    [[ "$1" -eq 0 ]] && return 0
    echo "--- server log (last 40 lines) ---" >&2
    tail -n 40 "$RUN/server.log" | sed -E 's/^(    password: ).*/\1<redacted>/' >&2
    exit "$1"
}

# --- The scenario ----------------------------------------------------------------------------
set +e
BASE_URL=$BASE_URL ADMIN_PASSWORD=$ADMIN_PASSWORD CLIENT_PACKAGE=$PKG PYTHONPATH="$GEN" PYTHONDONTWRITEBYTECODE=1 \
    "$VENV/bin/python" "$ROOT/.ci/client_check.py"
rc=$?
set -e
fail_with_server_log "$rc"

# --- The TypeScript client: generate, type-check, run -------------------------------------
TS=$ROOT/.ci/ts-client
step "npm ci in .ci/ts-client"
(cd "$TS" && npm ci --no-audit --no-fund --loglevel=error)
step "openapi-typescript ${SPEC#"$ROOT"/} -> .ci/ts-client/work/schema.d.ts; tsc (strict)"
rm -rf "$TS/work"
mkdir -p "$TS/work"
(cd "$TS" && npx --no-install openapi-typescript "$SPEC" -o work/schema.d.ts && npx --no-install tsc -p .)
set +e
BASE_URL=$BASE_URL ADMIN_PASSWORD=$ADMIN_PASSWORD node "$TS/work/out/scenario.js"
rc=$?
set -e
fail_with_server_log "$rc"
step "done"
