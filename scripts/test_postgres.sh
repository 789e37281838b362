#!/usr/bin/env bash
# The database tests again, on a throwaway PostgreSQL cluster: `make test` runs this after the SQLite suite.
#
# Installs Debian's postgresql when initdb is missing (as root with apt-get), makes a cluster in a
# temporary folder that listens only on a Unix socket there, runs pytest with TEST_DATABASE_URL
# pointing at it (tests/conftest.py then gives every test a fresh PostgreSQL database), and always
# stops and removes the cluster. Where PostgreSQL cannot be had it prints "skipped: ..." and exits 0,
# except in CI (CI set), where the PostgreSQL pass must run.
#
#   scripts/test_postgres.sh                   # the database test modules below
#   scripts/test_postgres.sh tests/test_api.py -k vote   # other pytest arguments instead
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
# The modules that exercise the database; browser and pure-math tests gain nothing from a second run.
MODULES=(
  tests/test_schema.py tests/test_api.py tests/test_participation.py tests/test_participant.py
  tests/test_facilitator.py tests/test_refusals_leave_nothing.py tests/test_jobs.py tests/test_polis_io.py
  tests/test_polis_cli.py tests/test_cli_fresh_database.py tests/test_clustering_runs.py tests/test_constitution_web.py
  tests/test_constitution_carry.py tests/test_moderation_scale.py tests/test_constitution_candidates.py
  tests/test_vote_snapshot.py tests/test_demo.py tests/test_security.py tests/test_concurrency.py
  tests/test_statements_once.py tests/test_one_place.py tests/test_validation.py tests/test_tokens.py
  tests/test_rating_db.py
  tests/test_evals_community.py
  tests/test_sessions_tokens.py tests/test_invitations.py tests/test_session_cookie.py
  tests/test_adapters_critique.py
  tests/test_adapters_taigi.py
  tests/test_adapters_empty_dataset.py
  tests/test_report.py tests/test_results_umap.py
)

skip() {
  if [ -n "${CI:-}" ]; then
    echo "PostgreSQL tests FAILED to start in CI: $*" >&2
    exit 1
  fi
  echo "PostgreSQL tests skipped: $*"
  exit 0
}

find_bindir() {
  local initdb
  initdb=$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
  [ -n "$initdb" ] && dirname "$(readlink -f "$initdb")"
}

BINDIR=$(find_bindir || true)
if [ -z "$BINDIR" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    skip "PostgreSQL (initdb) is not installed, and installing it needs root and apt-get"
  fi
  echo "installing Debian's postgresql..."
  t0=$SECONDS
  # No cluster of its own: this script makes a throwaway one.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/no-main-cluster.conf
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
     postgresql >/dev/null) || skip "apt-get install postgresql failed"
  echo "installed postgresql in $((SECONDS - t0)) s"
  BINDIR=$(find_bindir || true)
  [ -n "$BINDIR" ] || skip "postgresql installed, but initdb was not found"
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || skip "running as root and there is no postgres user to run the server as"
  AS=(runuser -u postgres --)
fi

DIR=$(mktemp -d /tmp/assembly-pg.XXXXXX)
cleanup() {
  "${AS[@]}" "$BINDIR/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ "$(id -u)" = 0 ] && chown postgres "$DIR"

"${AS[@]}" "$BINDIR/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
  >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; skip "initdb failed"; }
# A disposable cluster: durability off for speed; no TCP, only the socket in $DIR.
cat >>"$DIR/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$DIR'
port = 5432
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 64MB
EOF
"${AS[@]}" "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null \
  || { cat "$DIR/server.log" >&2; skip "the PostgreSQL server did not start"; }

export TEST_DATABASE_URL="postgresql+psycopg://postgres@/postgres?host=$DIR&port=5432"
[ $# -gt 0 ] || set -- -n 2 -q "${MODULES[@]}"
echo "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}'): pytest $*"
# Not exec'd, so the EXIT trap still stops the cluster; pytest's summary stays the last line printed.
"$PYTHON" -m pytest -p no:cacheprovider "$@"
