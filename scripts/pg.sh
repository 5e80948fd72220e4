#!/usr/bin/env bash
# Source this (`. scripts/pg.sh`): a throw-away PostgreSQL server for the campaign
# store tests.  Installs the Debian server package when missing, creates a cluster in a
# temporary folder (run as the `postgres` user when we are root), listens on
# 127.0.0.1 only on a free port, creates the database `rubric_test` and exports
#   RUBRIC_XL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:PORT/rubric_test
# The server stops by itself when the shell that sourced this exits (even after `exec`).
# Nothing is done when RUBRIC_XL_TEST_PG is already set.
if [ -z "${RUBRIC_XL_TEST_PG:-}" ]; then
  _pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$_pg_bin" ] || [ ! -x "$_pg_bin/postgres" ]; then
    echo "安装 PostgreSQL（postgresql）" >&2
    if [ "$(id -u)" = 0 ]; then
      apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends postgresql >/dev/null
    else
      sudo apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive sudo apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends postgresql >/dev/null
    fi
    _pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  _pg_dir=$(mktemp -d /tmp/rubric-xl-pg.XXXXXX)
  _pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$_pg_dir"
    _pg_as() { runuser -u postgres -- "$@"; }
  else
    _pg_as() { "$@"; }
  fi
  _pg_as "$_pg_bin/initdb" -D "$_pg_dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$_pg_dir/initdb.log" 2>&1 \
    || { cat "$_pg_dir/initdb.log" >&2; return 1 2>/dev/null || exit 1; }
  _pg_as "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -l "$_pg_dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $_pg_port -k $_pg_dir -c fsync=off -c max_connections=50" start >/dev/null \
    || { cat "$_pg_dir/server.log" >&2; return 1 2>/dev/null || exit 1; }
  _pg_as "$_pg_bin/createdb" -h 127.0.0.1 -p "$_pg_port" -U postgres rubric_test
  export RUBRIC_XL_TEST_PG="postgresql+psycopg://postgres@127.0.0.1:$_pg_port/rubric_test"
  echo "PostgreSQL 测试服务器：127.0.0.1:$_pg_port（$_pg_dir）" >&2
  # stop the server when the sourcing shell (or the process it exec'd) ends
  _pg_owner=$$
  ( trap '' HUP; while kill -0 "$_pg_owner" 2>/dev/null; do sleep 2; done
    _pg_as "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -m fast -w stop >/dev/null 2>&1; rm -rf "$_pg_dir" ) \
    </dev/null >/dev/null 2>&1 &
  disown 2>/dev/null || true
fi
