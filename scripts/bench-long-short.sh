#!/usr/bin/env bash
# Long vs short TCP connections, measured on this machine (the long-short lesson).
#
# Builds long-short in release mode, starts two servers on 127.0.0.1 (one with a pool of
# pre-started workers, one that spawns a thread per connection), runs the client in both modes
# at concurrency 1 and 8 against each, and prints requests per second and the ratios.
#
#   bash scripts/bench-long-short.sh          # 10000 requests per run
#   bash scripts/bench-long-short.sh 2000     # fewer, quicker (1 to 20000)
#
# Loopback only, and bounded: a fixed number of requests, a timeout on each request (the
# client's), on each run (`timeout`, where installed) and on the servers' start; the servers are
# stopped on exit. Every short connection leaves a socket in TIME_WAIT for a minute or so
# (30 s on macOS): run it twice in a row with a large COUNT and the machine may run short of
# local ports (macOS has 16384 of them: use COUNT 5000 there). Not a test: CI never runs it, and
# the numbers depend on the machine and on whatever else it is doing.
set -euo pipefail
cd "$(dirname "$0")/.."

count=${1:-10000}
if ! [[ $count =~ ^[0-9]+$ ]] || ((count < 1 || count > 20000)); then
  echo "usage: $0 [COUNT]   (requests per run, 1 to 20000; default 10000)" >&2
  exit 2
fi

echo "building long-short (release) ..."
cargo build --release --quiet -p long-short
target_dir=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="$target_dir/release/long-short"
[[ -x $bin ]] || bin="$bin.exe"

work=$(mktemp -d)
server_pids=()
cleanup() {
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A time limit per client run, where the `timeout` command exists (not on stock macOS).
limit=()
command -v timeout >/dev/null && limit=(timeout 300)

# start_server NAME THREADS: starts a server on a free port of 127.0.0.1, sets NAME_addr.
start_server() {
  local log="$work/$1-server.log" addr=""
  "$bin" server --listen 127.0.0.1:0 --threads "$2" >"$log" 2>&1 &
  server_pids+=($!)
  for _ in $(seq 100); do
    addr=$(sed -n 's/^listening on //p' "$log")
    [[ -n $addr ]] && break
    sleep 0.1
  done
  if [[ -z $addr ]]; then
    echo "bench: the $1 server did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  printf -v "$1_addr" '%s' "$addr"
}

# field NAME LINE: the value of NAME=value in a summary line.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# measure SERVER MODE CONCURRENCY [quiet]: one client run; prints a row, sets rate/p99 variables.
measure() {
  local addr_var="$1_addr" output line elapsed rate
  if ! output=$("${limit[@]}" "$bin" client --connect "${!addr_var}" --mode "$2" \
    --count "$count" --concurrency "$3" 2>"$work/client.err"); then
    echo "bench: $1 server, $2 connections, concurrency $3: the client failed:" >&2
    cat "$work/client.err" >&2
    exit 1
  fi
  line=$(grep '^mode=' <<<"$output")
  elapsed=$(field elapsed_ms "$line")
  ((elapsed > 0)) || elapsed=1
  rate=$((count * 1000 / elapsed))
  printf -v "rate_$1_$2_$3" '%s' "$rate"
  printf -v "p99_$1_$2_$3" '%s' "$(field p99_us "$line")"
  if [[ $2 == short ]]; then
    printf -v "time_wait_$1" '%s' "$(grep '^TIME_WAIT' <<<"$output" || true)"
  fi
  [[ ${4:-} == quiet ]] && return
  printf '%-7s %-6s %11s %11s %8s %7s %12s\n' "$1" "$2" "$3" "$rate" \
    "$(field mean_us "$line")" "$(field p99_us "$line")" "$(field connections "$line")"
}

# value NAME: the value of the variable called NAME.
value() { printf '%s' "${!1}"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }

start_server pool pool
start_server spawn spawn

cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")
echo "long-short benchmark: $count requests of 64 bytes per run, 127.0.0.1, release build"
echo "machine: $(uname -sr), $cpus CPUs; pool server on $pool_addr, spawn server on $spawn_addr"
echo

# Warm up both servers (and the caches) with a few requests; not reported.
saved=$count
count=$((saved < 200 ? saved : 200))
for server in pool spawn; do measure "$server" long 1 quiet; measure "$server" short 1 quiet; done
count=$saved

printf '%-7s %-6s %11s %11s %8s %7s %12s\n' server mode concurrency requests/s mean_us p99_us connections
for concurrency in 1 8; do
  for mode in long short; do
    for server in pool spawn; do
      measure "$server" "$mode" "$concurrency"
    done
  done
done

echo
echo "long / short, requests per second:"
for server in pool spawn; do
  printf '  %-6s server: concurrency 1: %s, concurrency 8: %s\n' "$server" \
    "$(ratio "$(value "rate_${server}_long_1")" "$(value "rate_${server}_short_1")")" \
    "$(ratio "$(value "rate_${server}_long_8")" "$(value "rate_${server}_short_8")")"
done
echo "short connections, pool / spawn-per-connection:"
for concurrency in 1 8; do
  printf '  concurrency %s: %s the requests per second; p99 %s us (pool) vs %s us (spawn)\n' \
    "$concurrency" \
    "$(ratio "$(value "rate_pool_short_$concurrency")" "$(value "rate_spawn_short_$concurrency")")" \
    "$(value "p99_pool_short_$concurrency")" "$(value "p99_spawn_short_$concurrency")"
done
echo
echo "pool server:  ${time_wait_pool:-}"
echo "spawn server: ${time_wait_spawn:-}"
