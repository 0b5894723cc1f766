#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the store tests and print how to reach it.
#
#   eval "$(bash .ci/postgres.sh)"     # sets ARBITER_TEST_PG_URL
#
# On Debian, as root: installs PostgreSQL if it is missing, creates a cluster under
# $ARBITER_PG_DIR (default /tmp/arbiter-pg) listening on 127.0.0.1:$ARBITER_PG_PORT
# (default 54329), and a role and database `arbiter` (password `arbiter`). Idempotent:
# a second run finds the server running and only re-checks the role and database.
# stdout carries only the `export ...` line; every log line goes to stderr.
set -euo pipefail

exec 3>&1 1>&2 # fd 3 is the real stdout; everything else is a log

PORT="${ARBITER_PG_PORT:-54329}"
BASE="${ARBITER_PG_DIR:-/tmp/arbiter-pg}"
PGDATA="$BASE/data"
SOCKDIR=/tmp
URL="postgresql+psycopg://arbiter:arbiter@127.0.0.1:${PORT}/arbiter"

log() { echo "postgres.sh: $*"; }

# The newest installed server, e.g. /usr/lib/postgresql/15/bin ("" if none).
find_bindir() {
    local dirs
    dirs=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V || true)
    for d in $dirs; do
        if [ -x "$d/initdb" ]; then echo "$d"; fi
    done | tail -n 1
}

install_postgres() {
    if [ "$(id -u)" -ne 0 ]; then
        log "PostgreSQL is not installed and installing it needs root"
        exit 1
    fi
    log "installing PostgreSQL with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # The package index may be stale or absent on a fresh image: update only if needed.
    if ! apt-get install -y --no-install-recommends postgresql; then
        apt-get update
        apt-get install -y --no-install-recommends postgresql
    fi
}

# Run a server command as the `postgres` account when we are root (the server refuses
# to run as root), else as ourselves.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

init_cluster() {
    local version="$1"
    # A data directory from a failed initdb or another major version is test debris.
    if [ -d "$PGDATA" ] && [ "$(cat "$PGDATA/PG_VERSION" 2>/dev/null || true)" != "$version" ]; then
        log "removing unusable data directory $PGDATA"
        rm -rf "$PGDATA"
    fi
    if [ -d "$PGDATA" ]; then
        return
    fi
    mkdir -p "$BASE"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$BASE"
    fi
    log "initialising a PostgreSQL $version cluster in $PGDATA"
    as_pg "$BINDIR/initdb" -D "$PGDATA" -U postgres -E UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
}

# The server outlives this script: it must not keep the caller's pipes open (fd 3 is the
# `$(...)` of `eval "$(bash .ci/postgres.sh)"`, which would otherwise never see EOF).
close_inherited_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd="${fd##*/}"
        if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
}

start_server() {
    if as_pg "$BINDIR/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        log "server already running in $PGDATA"
        return
    fi
    log "starting the server on 127.0.0.1:$PORT"
    local opts="-p $PORT -k $SOCKDIR -c listen_addresses=127.0.0.1"
    # Durability is pointless for a throwaway test server; turning it off makes tests faster.
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if ! (close_inherited_fds && as_pg "$BINDIR/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" \
        -w -t 60 -o "$opts" start >/dev/null); then
        log "the server did not start; the end of its log:"
        tail -n 30 "$PGDATA/server.log" || true
        exit 1
    fi
}

wait_ready() {
    local i
    for i in $(seq 1 60); do
        if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
            return
        fi
        sleep 0.5
    done
    log "the server on 127.0.0.1:$PORT did not accept connections within 30 s"
    exit 1
}

create_role_and_database() {
    as_pg "$BINDIR/psql" -h "$SOCKDIR" -p "$PORT" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 -q >/dev/null <<'SQL'
SELECT 'CREATE ROLE arbiter LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'arbiter')\gexec
ALTER ROLE arbiter LOGIN PASSWORD 'arbiter';
SELECT 'CREATE DATABASE arbiter OWNER arbiter'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'arbiter')\gexec
SQL
    # Prove the exact route the tests take: TCP, password authentication.
    PGPASSWORD=arbiter PGCONNECT_TIMEOUT=5 "$BINDIR/psql" -h 127.0.0.1 -p "$PORT" \
        -U arbiter -d arbiter -v ON_ERROR_STOP=1 -qAt -c 'SELECT 1' >/dev/null
}

cd /tmp # runuser keeps the working directory; postgres may not be able to read ours

BINDIR="$(find_bindir)"
if [ -z "$BINDIR" ]; then
    install_postgres
    BINDIR="$(find_bindir)"
    [ -n "$BINDIR" ] || { log "no PostgreSQL server binaries under /usr/lib/postgresql"; exit 1; }
fi
VERSION="$(basename "$(dirname "$BINDIR")")"

init_cluster "$VERSION"
start_server
wait_ready
create_role_and_database
log "PostgreSQL $VERSION ready at 127.0.0.1:$PORT (data in $PGDATA)"
echo "export ARBITER_TEST_PG_URL=$URL" >&3
