#!/usr/bin/env bash
# OpenAPI-driven fuzzing: schemathesis (version pinned in .ci/requirements-fuzz.txt) against a
# live server, once per role (admin, province, county, canteen, supplier) on each backend
# (a fresh SQLite file and a fresh PostgreSQL database), with every check on every operation.
# Any failure of any check fails the stage.
#
# The backends run side by side. Each: the server binary's `demo` subcommand seeds a semester of purchases (schools
# in four counties, suppliers with verified and declared tags, a void), `token mint` mints
# one integration token per role (the county is the demo's 520102, the canteen its first
# school, the supplier its first supplier), the server starts on a free loopback port, and
# `schemathesis run <url>/api-docs/openapi.json --checks all` runs once per role with that
# role's token, all phases (examples, coverage, fuzzing, stateful), FUZZ_MAX_EXAMPLES test
# cases per operation and a fixed seed. .ci/fuzz_hooks.py teaches the generator the rules a
# schema cannot state (dates up to today, one field not after another, exclusive query
# parameters): it rewrites only the cases schemathesis asserts must be accepted.
#
# Usage: bash .ci/fuzz.sh                    (from any directory)
# Env:   CI_WORK           scratch directory (default .ci/work, git-ignored)
#        CANTEEN_BIN       server binary (default: `cargo build --locked`, the debug build
#                          `cargo test` already made)
#        TEST_PG_SERVER    PostgreSQL server without database (default postgres://root@127.0.0.1:5432)
#        FUZZ_MAX_EXAMPLES test cases per operation in the fuzzing phase (default 30)
#        FUZZ_SEED         schemathesis seed (default 20261201)
#        FUZZ_BACKENDS     backends to fuzz (default "sqlite postgres")
#        FUZZ_ROLES        roles to fuzz as (default "admin province county canteen supplier")
#        FUZZ_EXTRA_ARGS   extra schemathesis arguments, for focused local runs only (CI sets none)
#        CARGO_TARGET_DIR  honoured as usual by cargo
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${CI_WORK:-$ROOT/.ci/work}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-30}
SEED=${FUZZ_SEED:-20261201}
BACKENDS=${FUZZ_BACKENDS:-sqlite postgres}
ROLES=${FUZZ_ROLES:-admin province county canteen supplier}
PG_SERVER=${TEST_PG_SERVER:-postgres://root@127.0.0.1:5432}
read -r -a EXTRA <<<"${FUZZ_EXTRA_ARGS:-}"
mkdir -p "$WORK"

T0=$SECONDS
step() { printf '  [fuzz +%ds] %s\n' "$((SECONDS - T0))" "$*"; }

# --- schemathesis, pinned, in a venv under the ignored work directory -------------------------
VENV=$WORK/fuzz-venv
REQS=$ROOT/.ci/requirements-fuzz.txt
if ! cmp -s "$REQS" "$VENV/requirements-fuzz.txt" 2>/dev/null; then
    step "creating venv with $(grep -E '^schemathesis==' "$REQS")"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$REQS"
    "$VENV/bin/python" -m pip check --disable-pip-version-check
    cp "$REQS" "$VENV/requirements-fuzz.txt"
fi
"$VENV/bin/schemathesis" --version

# --- server binary --------------------------------------------------------------------------
if [[ -n "${CANTEEN_BIN:-}" ]]; then
    BIN=$CANTEEN_BIN
else
    step "cargo build --locked"
    cargo build --locked
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/canteen-ledger
fi
test -x "$BIN" || { echo "no server binary at $BIN" >&2; exit 1; }

RUN=$(mktemp -d "$WORK/fuzz.XXXXXX")
cleanup() { [[ -n "${FUZZ_KEEP:-}" ]] || rm -rf "$RUN"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# One backend, start to end, in its own directory $RUN/$backend: seed, serve, one
# schemathesis run per role. Appends its summary lines to $DIR/summary and the FAILURES
# sections of failed runs to $DIR/failures; exits non-zero when a role failed.
fuzz_backend() {
    local backend=$1
    DIR=$RUN/$backend
    mkdir -p "$DIR"
    SERVER_PID=
    PG_DB=
    stop_server() {
        if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
            kill "$SERVER_PID" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$SERVER_PID" 2>/dev/null || true
            wait "$SERVER_PID" 2>/dev/null || true
        fi
        SERVER_PID=
    }
    drop_pg() {
        if [[ -n "$PG_DB" ]]; then
            psql -q -X "$PG_SERVER/postgres" -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
        fi
        PG_DB=
    }
    trap 'stop_server; drop_pg' EXIT
    # `token mint` prints the token on the line after "token (shown once):".
    mint() {
        "$BIN" token mint --role "$1" --label "fuzz $1" --days 1 </dev/null 2>>"$DIR/cli.log" | sed -n '/^token (shown once):$/{n;p;}'
    }
    # The first item's `id` of an admin GET (the demo's first school or supplier).
    first_id() {
        curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN" "$BASE_URL$1" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])'
    }

    case "$backend" in
        sqlite) export DATABASE_URL="sqlite://$DIR/fuzz.db" ;;
        postgres)
            PG_DB="fuzz_$$_$(date +%s)"
            psql -q -X "$PG_SERVER/postgres" -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
            export DATABASE_URL="$PG_SERVER/$PG_DB"
            ;;
        *) echo "unknown backend $backend (sqlite or postgres)" >&2; exit 2 ;;
    esac
    JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
    export JWT_SECRET RUST_LOG=warn MALLOC_ARENA_MAX=2
    step "$backend: seeding with \`demo\`"
    "$BIN" demo </dev/null >"$DIR/demo.log" 2>&1 || { cat "$DIR/demo.log" >&2; exit 1; }
    ADMIN_TOKEN=$(mint admin)
    [[ -n "$ADMIN_TOKEN" ]] || { cat "$DIR/cli.log" >&2; echo "FAIL: cannot mint an admin token" >&2; exit 1; }

    PORT=$(free_port)
    BASE_URL=http://127.0.0.1:$PORT
    step "$backend: starting the server on $BASE_URL"
    BIND="127.0.0.1:$PORT" WORKERS=2 "$BIN" serve </dev/null >"$DIR/server.log" 2>&1 &
    SERVER_PID=$!
    local ready=
    for _ in $(seq 600); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        if curl -fsS -o /dev/null "$BASE_URL/readyz" 2>/dev/null; then ready=1; break; fi
        sleep 0.1
    done
    [[ -n "$ready" ]] || { cat "$DIR/server.log" >&2; echo "FAIL: the server did not become ready" >&2; exit 1; }

    SCHOOL_ID=$(first_id "/api/v1/schools?county=520102&limit=1")
    SUPPLIER_ID=$(first_id "/api/v1/suppliers?limit=1")
    export FUZZ_SCHOOL_ID=$SCHOOL_ID FUZZ_SUPPLIER_ID=$SUPPLIER_ID # for the hooks' references
    declare -A TOKEN=(
        [admin]=$ADMIN_TOKEN
        [province]=$(mint province)
        [county]=$(mint county:520102)
        [canteen]=$(mint "canteen:$SCHOOL_ID")
        [supplier]=$(mint "supplier:$SUPPLIER_ID")
    )

    local failed=0 role OUT started rc line summary
    for role in $ROLES; do
        [[ -n "${TOKEN[$role]:-}" ]] || { cat "$DIR/cli.log" >&2; echo "FAIL: no token for role $role" >&2; exit 1; }
        OUT=$DIR/$role
        mkdir -p "$OUT"
        step "$backend/$role: schemathesis --checks all --max-examples $MAX_EXAMPLES --seed $SEED"
        started=$SECONDS
        set +e
        (cd "$OUT" && SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$ROOT/.ci" PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/schemathesis" run "$BASE_URL/api-docs/openapi.json" \
            --checks all \
            --header "Authorization: Bearer ${TOKEN[$role]}" \
            --max-examples "$MAX_EXAMPLES" \
            --seed "$SEED" \
            --generation-database none \
            --request-timeout 30 \
            --no-color \
            --report junit --report-junit-path "$OUT/junit.xml" \
            "${EXTRA[@]}") >"$OUT/schemathesis.log" 2>&1
        rc=$?
        set -e
        # The last summary line, e.g. "===== 51 passed, 3 failed in 42.1s =====".
        line=$(grep -E '^=+ .* in [0-9.]+s =+$' "$OUT/schemathesis.log" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')
        summary=$(printf '%-9s %-9s %4ds  rc=%d  %s' "$backend" "$role" "$((SECONDS - started))" "$rc" "${line:-no summary}")
        echo "$summary" >>"$DIR/summary"
        if [[ $rc -ne 0 ]]; then
            failed=1
            echo "$backend/$role" >>"$DIR/failed"
            sed -n '/^=* FAILURES =*$/,/^=* WARNINGS =*$/p' "$OUT/schemathesis.log" >>"$DIR/failures" || true
        fi
        printf '    %s\n' "$summary"
    done
    return "$failed"
}

# The backends run side by side (each has its own server and database; on 2 cores the
# schemathesis client and the server of one backend leave room for the other's).
PIDS=()
for backend in $BACKENDS; do
    (fuzz_backend "$backend") &
    PIDS+=($!)
done
STATUS=0
for pid in "${PIDS[@]}"; do wait "$pid" || STATUS=1; done

FAILED=()
SUMMARY=()
for backend in $BACKENDS; do
    DIR=$RUN/$backend
    [[ -f "$DIR/summary" ]] && mapfile -t -O "${#SUMMARY[@]}" SUMMARY <"$DIR/summary"
    [[ -f "$DIR/failed" ]] && mapfile -t -O "${#FAILED[@]}" FAILED <"$DIR/failed"
    [[ -f "$DIR/failures" ]] && cat "$DIR/failures" >&2
done
if [[ $STATUS -ne 0 && ${#FAILED[@]} -eq 0 ]]; then
    echo "FAIL fuzzing: a backend could not be set up (see above)" >&2
    exit 1
fi

echo
echo "==> schemathesis summary (backend, role, seconds, exit code, result)"
printf '    %s\n' "${SUMMARY[@]}"
if [[ ${#FAILED[@]} -gt 0 ]]; then
    echo "FAIL fuzzing: failures as ${FAILED[*]} (logs under $RUN with FUZZ_KEEP=1)" >&2
    exit 1
fi
step "done: zero failures"
