#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite: no systemd, no service, one folder.
#   scripts/pg-test-cluster.sh start [dir]  -> initdb + start on 127.0.0.1:<free port>, prints the URL
#   scripts/pg-test-cluster.sh stop  [dir]  -> stop it and delete the folder
# Trust auth on loopback only: the cluster holds test data and dies with the run.
# As root it runs the server as the `postgres` user (initdb refuses root).
set -euo pipefail
cmd="${1:-}"
dir="${2:-${FEDML_PG_TEST_DIR:-/tmp/fedml-pg-test}}"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$bindir" ]; then
  bindir="$(dirname "$(command -v pg_ctl 2>/dev/null || true)")"
fi
[ -x "$bindir/pg_ctl" ] || { echo "pg-test-cluster: PostgreSQL is not installed (apt-get install -y postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    if [ -f "$dir/url" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      cat "$dir/url"
      exit 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync off: a crash loses only test data, and the suite runs faster on small disks.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    url="postgres://postgres@127.0.0.1:$port/postgres"
    echo "$url" >"$dir/url"
    echo "$url"
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop [dir]" >&2
    exit 2
    ;;
esac
