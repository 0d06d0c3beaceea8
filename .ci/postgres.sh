# Sourced: a PostgreSQL server of the test run's own, from Debian's postgresql (no docker).
# start_postgres makes one in a temporary directory, listening on a Unix socket in that
# directory only (no port taken, none to race for), and exports PORTICO_TEST_POSTGRES: the URL
# the tests create their databases from (portico-store's test_postgres.rs). stop_postgres stops
# it and removes its directory. As root the server runs as Debian's `postgres` user (initdb
# refuses root).

need_postgres() {
  [ -n "$(pg_bin)" ] && return
  log "installing PostgreSQL from Debian"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
}

# Where initdb and pg_ctl are: the PATH, else Debian's newest version.
pg_bin() {
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v initdb)"
    return
  fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin; bin="$(pg_bin)"
  PG_DIR="$(mktemp -d -t portico-pg.XXXXXX)"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
  pg_as_owner "$bin/initdb" -D "$PG_DIR/data" -U portico --auth=trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  # Durability off: the data is thrown away at the end.
  pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-c listen_addresses='' -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
  export PORTICO_TEST_POSTGRES="postgres://portico@localhost/postgres?host=$PG_DIR"
}

stop_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  pg_as_owner "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
