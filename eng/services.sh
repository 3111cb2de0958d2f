#!/usr/bin/env bash
# Installs (when missing) and starts/stops the real servers the tests and benchmarks use:
# redis-server on 127.0.0.1:6390 and PostgreSQL on 127.0.0.1:5440, both without persistence,
# in .services/ under the repository. Prints the environment the tests read.
#
#   eng/services.sh start     # install if needed, start both, wait until ready
#   eng/services.sh stop      # stop both
#   eng/services.sh env       # print export lines for LEASING_REDIS / LEASING_POSTGRES
#   eng/services.sh restart-redis   # stop and start Redis (used by the restart test)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
run="${LEASING_SERVICES_DIR:-$root/.services}"
redis_port="${LEASING_REDIS_PORT:-6390}"
pg_port="${LEASING_POSTGRES_PORT:-5440}"
redis_cs="127.0.0.1:${redis_port}"
pg_cs="Host=127.0.0.1;Port=${pg_port};Username=postgres;Database=leasing"

pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install_missing() {
  local need=()
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server redis-tools)
  [ -n "$(pgbin)" ] && [ -x "$(pgbin)/initdb" ] || need+=(postgresql)
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}" >&2
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
  fi
}

start_redis() {
  mkdir -p "$run/redis"
  if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then return 0; fi
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --maxmemory-policy noeviction --daemonize yes --dir "$run/redis" \
    --pidfile "$run/redis/redis.pid" --logfile "$run/redis/redis.log"
  for _ in $(seq 1 200); do
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  echo "redis did not start; see $run/redis/redis.log" >&2; return 1
}

stop_redis() {
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin; bin="$(pgbin)"
  mkdir -p "$run"; chmod 755 "$run" "$root" 2>/dev/null || true
  if pg_isready -h 127.0.0.1 -p "$pg_port" >/dev/null 2>&1; then ensure_db; return 0; fi
  if [ ! -f "$run/pg/data/PG_VERSION" ]; then
    rm -rf "$run/pg"; mkdir -p "$run/pg"; chmod 755 "$run/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$run/pg"
    as_postgres "$bin/initdb" -D "$run/pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  fi
  as_postgres "$bin/pg_ctl" -D "$run/pg/data" -l "$run/pg/pg.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $run/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
  ensure_db
}

ensure_db() {
  psql -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='leasing'" | grep -q 1 \
    || psql -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE leasing" >/dev/null
}

stop_postgres() {
  local bin; bin="$(pgbin)"
  [ -n "$bin" ] && [ -f "$run/pg/data/postmaster.pid" ] && as_postgres "$bin/pg_ctl" -D "$run/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}

print_env() {
  echo "export LEASING_REDIS='$redis_cs'"
  echo "export LEASING_POSTGRES='$pg_cs'"
}

case "${1:-}" in
  start) install_missing; start_redis; start_postgres; print_env ;;
  stop) stop_redis; stop_postgres ;;
  env) print_env ;;
  start-redis) start_redis ;;
  stop-redis) stop_redis ;;
  restart-redis) stop_redis; start_redis ;;
  *) echo "usage: $0 start|stop|env|start-redis|stop-redis|restart-redis" >&2; exit 2 ;;
esac
