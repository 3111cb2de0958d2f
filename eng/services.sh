#!/usr/bin/env bash
# Installs (when missing) and starts/stops the real servers the tests and benchmarks use:
# redis-server on 127.0.0.1:6390, PostgreSQL on 127.0.0.1:5440, and a Redis Cluster of six
# nodes (3 masters, 3 replicas) on 127.0.0.1:7000..7005, all without persistence, in .services/
# under the repository. Prints the environment the tests read.
#
#   eng/services.sh start     # install if needed, start all three, wait until ready
#   eng/services.sh stop      # stop all three
#   eng/services.sh env       # print export lines for LEASING_REDIS / LEASING_POSTGRES / LEASING_REDIS_CLUSTER
#   eng/services.sh restart-redis   # stop and start Redis (used by the restart test)
#   eng/services.sh stop-redis | stop-postgres   # stop one of them (.ci/run stops what it started)
#   eng/services.sh start-cluster   # start the cluster alone (idempotent: a healthy cluster is left as it is)
#   eng/services.sh stop-cluster    # stop the cluster alone
#   eng/services.sh cluster-status  # print each node's role and the cluster state
#
# Ports: LEASING_REDIS_PORT, LEASING_POSTGRES_PORT, LEASING_REDIS_CLUSTER_PORT (the first of six
# consecutive ports). The cluster uses --cluster-node-timeout 2000 (ms), so a replica takes over
# a killed master within a few seconds (the failover tests rely on it). A cluster whose nodes do
# not all answer, or whose state is not ok, is wiped (its nodes.conf files removed) and created
# again; its data is lost, as it has no persistence anyway.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
run="${LEASING_SERVICES_DIR:-$root/.services}"
redis_port="${LEASING_REDIS_PORT:-6390}"
pg_port="${LEASING_POSTGRES_PORT:-5440}"
redis_cs="127.0.0.1:${redis_port}"
pg_cs="Host=127.0.0.1;Port=${pg_port};Username=postgres;Database=leasing"
cluster_port="${LEASING_REDIS_CLUSTER_PORT:-7000}"
cluster_ports=()
for i in 0 1 2 3 4 5; do cluster_ports+=("$((cluster_port + i))"); done
cluster_cs="$(printf '127.0.0.1:%s,' "${cluster_ports[@]}")"; cluster_cs="${cluster_cs%,}"

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

# One cluster node on its port, with its data dir (nodes.conf) under $run/cluster/<port>.
start_cluster_node() {
  local port="$1" dir="$run/cluster/$1"
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 2000 --save '' --appendonly no --maxmemory-policy noeviction \
    --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  for _ in $(seq 1 200); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  echo "cluster node $port did not start; see $dir/redis.log" >&2; return 1
}

cluster_ok_on() { redis-cli -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

# Every node answers, says the cluster is ok, and the cluster has 3 masters with a replica each.
cluster_healthy() {
  local port
  for port in "${cluster_ports[@]}"; do cluster_ok_on "$port" || return 1; done
  [ "$(redis-cli -p "$cluster_port" cluster nodes 2>/dev/null | grep -v fail | grep -c master)" -eq 3 ] || return 1
  [ "$(redis-cli -p "$cluster_port" cluster nodes 2>/dev/null | grep -v fail | grep -c slave)" -eq 3 ]
}

wait_cluster_healthy() {
  for _ in $(seq 1 300); do cluster_healthy && return 0; sleep 0.1; done
  echo "the cluster on ${cluster_cs} did not reach cluster_state:ok; see $run/cluster/*/redis.log" >&2; return 1
}

start_cluster() {
  if cluster_healthy; then return 0; fi
  # Anything else (nodes down, leftovers of an earlier run, a half-made cluster): start over.
  stop_cluster
  rm -rf "$run/cluster"
  local port
  for port in "${cluster_ports[@]}"; do start_cluster_node "$port"; done
  local seeds=()
  for port in "${cluster_ports[@]}"; do seeds+=("127.0.0.1:$port"); done
  redis-cli --cluster create "${seeds[@]}" --cluster-replicas 1 --cluster-yes >"$run/cluster/create.log" 2>&1 \
    || { echo "redis-cli --cluster create failed; see $run/cluster/create.log" >&2; return 1; }
  wait_cluster_healthy
}

stop_cluster() {
  local port
  for port in "${cluster_ports[@]}"; do
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  done
  # A node that did not answer (paused, hung) is stopped by its pid file.
  for port in "${cluster_ports[@]}"; do
    local pidfile="$run/cluster/$port/redis.pid"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      kill -9 "$(cat "$pidfile")" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

cluster_status() {
  local port
  for port in "${cluster_ports[@]}"; do
    printf '%s %s %s\n' "$port" \
      "$(redis-cli -p "$port" role 2>/dev/null | head -1 || echo down)" \
      "$(redis-cli -p "$port" cluster info 2>/dev/null | grep '^cluster_state' | tr -d '\r' || echo down)"
  done
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
  echo "export LEASING_REDIS_CLUSTER='$cluster_cs'"
}

case "${1:-}" in
  start) install_missing; start_redis; start_postgres; start_cluster; print_env ;;
  stop) stop_redis; stop_postgres; stop_cluster ;;
  env) print_env ;;
  start-redis) start_redis ;;
  stop-redis) stop_redis ;;
  stop-postgres) stop_postgres ;;
  restart-redis) stop_redis; start_redis ;;
  start-cluster) install_missing; start_cluster ;;
  stop-cluster) stop_cluster ;;
  cluster-status) cluster_status ;;
  *) echo "usage: $0 start|stop|env|start-redis|stop-redis|stop-postgres|restart-redis|start-cluster|stop-cluster|cluster-status" >&2; exit 2 ;;
esac
