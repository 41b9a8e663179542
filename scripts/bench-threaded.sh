#!/usr/bin/env bash
# Benchmark for the tcp-threaded lesson (a script, not a test). Builds in release mode, then
# for each server — a thread per connection, a pool, and the seed-style Python threaded server
# (scripts/seed_threaded_server.py) — starts it on 127.0.0.1 (a free port), drives it with the
# load generator (crates/lessons/tcp-threaded/examples/load.rs) at 1, 10 and 100 concurrent
# connections, each sending 64-byte lines and waiting for each echo, and prints requests/s,
# p50/p99 latency, errors and the server's peak memory (RSS). Then 1,000 connections at once,
# 20 requests each. Every run is bounded in time; nothing leaves this machine (loopback only).
#
#   bash scripts/bench-threaded.sh              # about two minutes on 2 cores
#   SECONDS_PER_RUN=1 bash scripts/bench-threaded.sh
#
# RSS is read from /proc (Linux); elsewhere the column shows "n/a".
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
LEVELS=${LEVELS:-"1 10 100"}
HOLD=${HOLD:-1000}
HOLD_REQUESTS=${HOLD_REQUESTS:-20}
POOL=${POOL:-128}
SIZE=64
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

echo "bench-threaded: building (release)"
cargo build --release --quiet -p tcp-threaded --bin tcp-threaded --example load
BIN=$CARGO_TARGET_DIR/release/tcp-threaded
LOAD=$CARGO_TARGET_DIR/release/examples/load
command -v python3 >/dev/null || { echo "bench-threaded: python3 is needed" >&2; exit 1; }

# 1,000 connections need 1,000 descriptors in the server and as many in the load generator.
wanted=$((HOLD * 2 + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$wanted" ]; then
  ulimit -n "$wanted" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# start_server CMD…: runs it in the background; sets server_pid and port from its first line.
start_server() {
  # A new file each time: the previous server's first line must never be read for this one's.
  rm -f "$tmp/server.out"
  "$@" >"$tmp/server.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    if first=$(head -n 1 "$tmp/server.out" 2>/dev/null) && [[ $first == "listening on "* ]]; then
      port=${first##*:}
      return
    fi
    sleep 0.1
  done
  echo "bench-threaded: the server did not start: $*" >&2
  cat "$tmp/server.out" >&2
  exit 1
}

# stop_server: SIGTERM (the Rust server stops gently; Python dies), then SIGKILL after 10 s.
stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

peak_rss_mib() {
  if [ -r "/proc/$server_pid/status" ]; then
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"
  else
    echo n/a
  fi
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

printf '%-34s %6s %10s %8s %8s %8s %7s %8s\n' server conns requests/s p50_ms p99_ms max_ms errors rss_MiB >"$tmp/table"

# run NAME CONNECTIONS SECONDS REQUESTS -- SERVER CMD…   (REQUESTS per connection; "-" for no limit)
run() {
  local name=$1 connections=$2 seconds=$3 requests=$4
  shift 5
  if [ "$requests" = - ]; then requests=1000000000; fi
  start_server "$@"
  local result
  result=$("$LOAD" "127.0.0.1:$port" "$connections" "$seconds" "$requests" "$SIZE" 2>"$tmp/load.err") || {
    echo "bench-threaded: the load generator failed" >&2
    cat "$tmp/load.err" >&2
    exit 1
  }
  local rss
  rss=$(peak_rss_mib)
  stop_server
  printf '%-34s %6s %10s %8s %8s %8s %7s %8s\n' "$name" "$connections" \
    "$(field rps "$result")" "$(field p50_ms "$result")" "$(field p99_ms "$result")" \
    "$(field max_ms "$result")" "$(field errors "$result")" "$rss" | tee -a "$tmp/table"
  if [ -s "$tmp/load.err" ]; then sed 's/^/    /' "$tmp/load.err"; fi
  echo "$name|$result rss_mib=$rss" >>"$tmp/results"
}

RUST_THREADS=("$BIN" server --listen 127.0.0.1:0 --quiet --max-connections $((HOLD + 100)))
RUST_POOL=("${RUST_THREADS[@]}" --pool "$POOL")
RUST_PRINTING=("$BIN" server --listen 127.0.0.1:0 --max-connections $((HOLD + 100)))
PYTHON=(python3 scripts/seed_threaded_server.py 0)

echo "bench-threaded: ${SECONDS_PER_RUN} s per run, ${SIZE}-byte requests, $(nproc) cores"
for connections in $LEVELS; do
  run "threads" "$connections" "$SECONDS_PER_RUN" - -- "${RUST_THREADS[@]}"
  run "pool $POOL" "$connections" "$SECONDS_PER_RUN" - -- "${RUST_POOL[@]}"
  run "python (seed 000 style)" "$connections" "$SECONDS_PER_RUN" - -- "${PYTHON[@]}"
done
# The same at 100 connections, each server printing every message it receives (the lesson's
# default, and the seeds'): the cost of a line of output per request.
run "threads, printing every message" 100 "$SECONDS_PER_RUN" - -- "${RUST_PRINTING[@]}"
run "python, printing every message" 100 "$SECONDS_PER_RUN" - -- "${PYTHON[@]}" --print
# All at once: $HOLD connections, $HOLD_REQUESTS requests each, at most 60 s.
run "threads" "$HOLD" 60 "$HOLD_REQUESTS" -- "${RUST_THREADS[@]}"
run "pool $POOL" "$HOLD" 60 "$HOLD_REQUESTS" -- "${RUST_POOL[@]}"
run "python (seed 000 style)" "$HOLD" 60 "$HOLD_REQUESTS" -- "${PYTHON[@]}"

echo
echo "bench-threaded: results"
cat "$tmp/table"

# The benchmark's targets, checked on this run's numbers.
python3 - "$tmp/results" "$HOLD" "$POOL" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, measured = line.rstrip("\n").split("|")
    values = dict(f.split("=", 1) for f in measured.split())
    rows[(name, int(values["connections"]))] = values
hold, pool = int(sys.argv[2]), sys.argv[3]
python = rows.get(("python (seed 000 style)", 100))
print()
for name in ("threads", f"pool {pool}"):
    rust = rows.get((name, 100))
    if rust and python:
        ratio = float(rust["rps"]) / max(float(python["rps"]), 1.0)
        p99 = float(rust["p99_ms"])
        print(f"{name:>10} at 100 connections: {ratio:.1f}x python's requests/s "
              f"({'ok' if ratio >= 3 else 'MISSED'}: target 3x), "
              f"p99 {p99:.2f} ms ({'ok' if p99 < 10 else 'MISSED'}: target < 10 ms)")
    held = rows.get((name, hold))
    if held:
        errors, rss = int(held["errors"]), held["rss_mib"]
        ok = errors == 0 and rss != "n/a" and float(rss) < 64
        print(f"{name:>10} at {hold} connections: {errors} errors, peak RSS {rss} MiB "
              f"({'ok' if ok else 'MISSED'}: target 0 errors, < 64 MiB)")
printing = [rows.get(("threads, printing every message", 100)), rows.get(("python, printing every message", 100))]
if all(printing):
    ratio = float(printing[0]["rps"]) / max(float(printing[1]["rps"]), 1.0)
    print(f"   printing at 100 connections: {ratio:.1f}x python's requests/s, "
          f"p99 {float(printing[0]['p99_ms']):.2f} ms vs {float(printing[1]['p99_ms']):.2f} ms")
EOF
