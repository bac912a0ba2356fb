#!/usr/bin/env bash
# Throwaway PostgreSQL servers for the database provider's tests and benchmarks.
#
#   postgres-fixture.sh start STATE_DIR     initdb + start on a free loopback port, with TLS
#   postgres-fixture.sh halt STATE_DIR      stop the server, keep its data (for restart tests)
#   postgres-fixture.sh resume STATE_DIR    start it again on the same port
#   postgres-fixture.sh stop STATE_DIR      stop the server and delete its data
#   postgres-fixture.sh stop-all ROOT       stop every server whose STATE_DIR is under ROOT
#
# The data directory is a fresh temporary directory; STATE_DIR receives:
#   conninfo   libpq connection string (host=127.0.0.1 port=... user=postgres dbname=coffer_test)
#   port, datadir, pgdata
#   ca.pem     the CA that signed the server's certificate (DNS:localhost, IP:127.0.0.1)
#   other-ca.pem  an unrelated CA, for tests that expect verification to fail
# As root the server runs as the `postgres` user (runuser); otherwise as the caller.
# The server listens on 127.0.0.1 only, without a Unix socket, trusts local
# connections, and runs with fsync=off: it holds test data only. With
# COFFER_PG_DURABLE=1 it keeps PostgreSQL's durable defaults (fsync,
# synchronous_commit, full_page_writes), as the benchmarks use it.
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/pg_ctl" ] || { echo "postgres-fixture: no PostgreSQL server binaries (set PGBIN)" >&2; exit 1; }

as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

log_tail() {
  local pgdata=$1
  [ -f "$pgdata/server.log" ] && { echo "--- server log ---" >&2; tail -n 30 "$pgdata/server.log" >&2; } || true
}

make_certificates() {
  local dir=$1 state=$2
  local quiet="-quiet"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -subj "/CN=coffer test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
    > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -out "$dir/server.pem" -extfile "$dir/server.ext" 2>/dev/null
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$dir/other-ca.key" -out "$dir/other-ca.pem" -subj "/CN=coffer unrelated CA" \
    -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
  rm -f "$dir/ca.key" "$dir/other-ca.key" "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
  chmod 600 "$dir/server.key"
  cp "$dir/ca.pem" "$dir/other-ca.pem" "$state/"
  unset quiet
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_server() {
  local pgdata=$1
  as_server "$PGBIN/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 30 start >/dev/null
}

cmd_start() {
  local state=$1
  mkdir -p "$state"
  [ -f "$state/datadir" ] && cmd_stop "$state"
  local root
  root=$(mktemp -d "${TMPDIR:-/tmp}/coffer-pg.XXXXXX")
  echo "$root" > "$state/datadir"
  local pgdata=$root/data
  mkdir -p "$pgdata"
  make_certificates "$root" "$state"
  chmod 700 "$root" "$pgdata"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$root"; fi
  echo "$pgdata" > "$state/pgdata"
  as_server "$PGBIN/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --no-locale --no-sync \
    >"$root/initdb.log" 2>&1 || { cat "$root/initdb.log" >&2; exit 1; }
  cat >> "$pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 100
ssl = on
ssl_cert_file = '$root/server.pem'
ssl_key_file = '$root/server.key'
CONF
  if [ "${COFFER_PG_DURABLE:-0}" != 1 ]; then
    printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >> "$pgdata/postgresql.conf"
  fi
  local attempt port
  for attempt in $(seq 1 20); do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    port_in_use "$port" && continue
    sed -i '/^port = /d' "$pgdata/postgresql.conf"
    echo "port = $port" >> "$pgdata/postgresql.conf"
    if start_server "$pgdata"; then
      echo "$port" > "$state/port"
      as_server "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE DATABASE coffer_test" >/dev/null
      echo "host=127.0.0.1 port=$port user=postgres dbname=coffer_test" > "$state/conninfo"
      return 0
    fi
    grep -q "could not bind\|could not create listen socket\|Address already in use" \
      "$pgdata/server.log" 2>/dev/null || { log_tail "$pgdata"; exit 1; }
  done
  echo "postgres-fixture: no free port found" >&2
  exit 1
}

cmd_halt() {
  local state=$1 pgdata
  pgdata=$(cat "$state/pgdata")
  as_server "$PGBIN/pg_ctl" -D "$pgdata" -m fast -w -t 30 stop >/dev/null
}

cmd_resume() {
  local state=$1 pgdata
  pgdata=$(cat "$state/pgdata")
  start_server "$pgdata" || { log_tail "$pgdata"; exit 1; }
}

cmd_stop() {
  local state=$1 root pgdata
  [ -f "$state/datadir" ] || return 0
  root=$(cat "$state/datadir")
  pgdata=$root/data
  if [ -f "$pgdata/postmaster.pid" ]; then
    as_server "$PGBIN/pg_ctl" -D "$pgdata" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  case "$root" in
    */coffer-pg.*) rm -rf "$root" ;;
  esac
  rm -f "$state/datadir" "$state/pgdata" "$state/port" "$state/conninfo" "$state/ca.pem" \
    "$state/other-ca.pem"
  rmdir "$state" 2>/dev/null || true
}

cmd_stop_all() {
  local root=$1 state
  [ -d "$root" ] || return 0
  for state in "$root"/*/; do
    [ -f "$state/datadir" ] && cmd_stop "${state%/}"
  done
  return 0
}

case "${1:-}" in
  start) cmd_start "$2" ;;
  halt) cmd_halt "$2" ;;
  resume) cmd_resume "$2" ;;
  stop) cmd_stop "$2" ;;
  stop-all) cmd_stop_all "$2" ;;
  *) echo "usage: $0 start|halt|resume|stop STATE_DIR | stop-all ROOT" >&2; exit 2 ;;
esac
