#!/usr/bin/env bash
# Install everything shequn's tests need on a fresh Debian machine, start a throwaway
# PostgreSQL on loopback, and run lint, types and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium fonts-wqy-zenhei)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)  # Spark (analytics on a cluster)
if ((${#need_apt[@]})); then
  echo "== apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

echo "== python environment"
bash scripts/install.sh test

PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGPORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== PostgreSQL (throwaway cluster on 127.0.0.1:$PGPORT)"
PGDATA=$(mktemp -d /tmp/shequn-pg.XXXXXX)
chown postgres "$PGDATA"
pg() { (cd / && runuser -u postgres -- "$@"); }
pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 >/dev/null
trap 'pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGDATA"' EXIT
if ! pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -o "-p $PGPORT -k /tmp \
    -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null; then
  cat "$PGDATA/server.log"
  exit 1
fi
export SHEQUN_TEST_PG_URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"

echo "== ruff"
.venv/bin/ruff check src tests bench scripts
.venv/bin/ruff format --check src tests bench scripts
echo "== mypy"
.venv/bin/mypy
echo "== dependency audit"
bash scripts/audit.sh
echo "== pytest"
# Two workers: most tests wait on a server (Synapse, PostgreSQL, Chromium), so two
# processes keep two cores busy; each worker has its own Synapse and template databases.
.venv/bin/pytest -q -p no:cacheprovider -n "${SHEQUN_TEST_WORKERS:-2}" --dist loadgroup "$@"
