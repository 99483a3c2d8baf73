#!/usr/bin/env bash
# Runs every test of smmd: the Rust workspace (unit, property, store conformance and API tests,
# each database test on SQLite and on PostgreSQL), the interop check of the public `smmpy`
# client against a live `smmd demo`, and Schemathesis fuzzing every REST operation of the served
# OpenAPI document against another live `smmd demo`.
#
# The e-mail tests deliver to a real SMTP server process (Python aiosmtpd, installed here into
# the venv and passed as SMMD_TEST_PYTHON); SMMD_SKIP_SMTP=1 skips them explicitly (never in CI).
#
# PostgreSQL: SMMD_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test). The tests fail
# if it cannot be reached; SMMD_SKIP_PG=1 skips them explicitly (never in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

# Python tools: the smmpy client, Schemathesis, and aiosmtpd (the SMTP server process the
# e-mail tests deliver to).
target="${CARGO_TARGET_DIR:-target}"
venv="$target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check smmpy==0.1.0 requests schemathesis==4.32.5 aiosmtpd==1.4.6
export SMMD_TEST_PYTHON="$PWD/$venv/bin/python"
case "$venv" in /*) export SMMD_TEST_PYTHON="$venv/bin/python" ;; esac

echo "== build (workspace, tests)"
cargo build --quiet -p smmd
cargo nextest run --workspace --no-run

# Everything this script starts is stopped on exit, success or failure. The PIDs and folders
# are recorded in files because `start_demo` runs in a command substitution (a subshell).
state="$(mktemp -d)"
cleanup() {
  local p
  for p in $(cat "$state/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  for p in $(cat "$state/pids" 2>/dev/null); do wait "$p" 2>/dev/null || true; done
  if [ -f "$state/dirs" ]; then xargs -r rm -rf < "$state/dirs" || true; fi
  rm -rf "$state"
}
trap cleanup EXIT

echo "== cargo nextest (workspace)"
cargo nextest run --workspace --no-fail-fast

echo "== margin guard: 10,000 orders across a tripled provider rate (SQLite, PostgreSQL)"
cargo nextest run --workspace --profile margin --no-fail-fast

# Alone: its sub-second figure is a latency, not to be taken on two cores shared with the
# workspace's tests. (Other databases' transactions no longer hold a panel's feed back: the test
# keeps one open on purpose.)
echo "== push chain: three panels on PostgreSQL deliver Completed and a Partial in under a second"
cargo nextest run --workspace --profile chain --no-fail-fast

echo "== browser journeys (Chromium)"
cargo nextest run --workspace --profile browser --no-fail-fast

# The many-instances soak (1,000 one-second ticks over 2, 4 and 8 `smmd serve` processes on
# PostgreSQL, about 17 minutes) is a step of its own with its own budget (30 minutes). It mostly
# waits on ticks, so it runs beside the steps below (their demos use SQLite); not beside the
# workspace run, whose PostgreSQL tests would leave it short of connections. Its result is
# checked at the end.
echo "== soak: many instances, each tick exactly once (background, 30 min budget)"
timeout 1800 cargo nextest run --workspace --profile soak --no-fail-fast --success-output final > "$state/soak.log" 2>&1 &
soak_pid=$!
echo "$soak_pid" >> "$state/pids"

# Starts `smmd demo` on a free port with its data in a new folder (printed) and waits for its
# credentials file. The scheduler is off: these checks need orders to stay where they put them.
start_demo() {
  local data pid
  data="$(mktemp -d)"
  echo "$data" >> "$state/dirs"
  SMMD__SCHEDULER__ENABLED=false "$target/debug/smmd" demo --listen 127.0.0.1:0 --data "$data" > "$data/demo.log" 2>&1 &
  pid=$!
  echo "$pid" >> "$state/pids"
  for _ in $(seq 1 100); do
    [ -f "$data/demo-credentials.json" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$data/demo.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -f "$data/demo-credentials.json" ] || { echo "smmd demo did not start" >&2; exit 1; }
  echo "$data"
}

cred() { "$venv/bin/python" -c 'import json,sys;d=json.load(open(sys.argv[1]));print(eval(sys.argv[2]))' "$1/demo-credentials.json" "$2"; }

echo "== smmpy interop against smmd demo"
data="$(start_demo)"
"$venv/bin/python" e2e/smmpy_check.py "$data"

echo "== schemathesis: every REST operation against smmd demo"
data="$(start_demo)"
url="$(cred "$data" 'd["url"]')"
admin_key="$(cred "$data" 'd["admin"]["api_key"]')"
user_key="$(cred "$data" 'd["user"]["api_key"]')"
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
# One worker: with two, hypothesis trips a CPython 3.11 `ast` recursion bug (a tool error).
# As the admin, who can call every route, except key rotation, which would log the run out...
"$venv/bin/st" run "$url/api/openapi.json" --no-color --header "Authorization: Bearer $admin_key" \
  --checks "$checks" --exclude-path /api/account/api-key \
  --phases examples,coverage,fuzzing --max-examples 100 --workers 1 --seed 1
# ...so key rotation runs last, as the user (after the first call the old key gets 401s).
"$venv/bin/st" run "$url/api/openapi.json" --no-color --header "Authorization: Bearer $user_key" \
  --checks "$checks" --include-path /api/account/api-key \
  --phases examples,coverage,fuzzing --max-examples 20 --workers 1 --seed 1
echo "== soak: waiting for the many-instances proof"
if wait "$soak_pid"; then
  grep -E "instances: .* ticks|PASS|Summary" "$state/soak.log" || true
else
  cat "$state/soak.log"
  echo "== the many-instances soak failed (or passed its 30-minute budget)" >&2
  exit 1
fi
echo "== all tests passed"
