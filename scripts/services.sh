#!/usr/bin/env bash
# Configures and starts the services the test suite needs:
# PostgreSQL on 127.0.0.1:5432 with a `test` database and trust auth for loopback, and Redis on
# 127.0.0.1:6379. The machines this project runs on start neither, so `.ci/run` calls this first, and a
# developer runs it once at the start of a session:
#
#   apt-get update && apt-get install -y postgresql redis-server   (once, as root, when they are missing)
#   bash scripts/services.sh                                         (as root: it edits pg_hba.conf)
#
# `npm install && npm start` needs neither service: the hub's default database is an embedded SQLite file.
# Safe to run again: each step checks first and does nothing when it is already done.
set -euo pipefail

# wait_for SECONDS COMMAND…: retries COMMAND once a second until it succeeds or time runs out.
wait_for() {
  local seconds=$1; shift
  for _ in $(seq "$seconds"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  "$@"
}

for tool in pg_ctlcluster redis-server; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is missing. Install Debian's packages first (.ci/run does this):" >&2
    echo "  apt-get update && apt-get install -y postgresql redis-server" >&2
    exit 1
  fi
done

# PostgreSQL: trust for loopback (tests connect as `postgres` without a password), then start or reload.
PG_VERSION=$(ls /etc/postgresql | sort -V | tail -n 1)
HBA=/etc/postgresql/$PG_VERSION/main/pg_hba.conf
if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$HBA"; then
  # Our line goes first: pg_hba.conf is read top to bottom and the first match wins.
  { echo 'host all all 127.0.0.1/32 trust'; echo 'host all all ::1/128 trust'; cat "$HBA"; } > "$HBA.new"
  mv "$HBA.new" "$HBA"
  chown postgres:postgres "$HBA"
fi
if pg_isready -h 127.0.0.1 >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main reload
else
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
fi
wait_for 60 pg_isready -h 127.0.0.1
# A reload takes a moment to apply the new pg_hba.conf: wait until a password-less connection works.
wait_for 30 psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1'
if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname = 'test'")" != 1 ]; then
  psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test' >/dev/null
fi
echo "PostgreSQL $PG_VERSION answers on 127.0.0.1:5432 (database test)"

# Redis: in memory only (no snapshots), loopback only.
if [ "$(redis-cli -h 127.0.0.1 ping 2>/dev/null)" != "PONG" ]; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
wait_for 30 redis-cli -h 127.0.0.1 ping
echo "Redis answers on 127.0.0.1:6379"
