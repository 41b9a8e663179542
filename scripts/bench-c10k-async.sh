#!/usr/bin/env bash
# Benchmark for the tcp-async lesson (a script, not a test): ten thousand connections. Builds in
# release mode, then for each server — tcp-async on one worker thread and on the default (one
# per core), tcp-threaded (a thread per connection), and a Python asyncio server
# (scripts/c10k_asyncio_server.py) — starts it on 127.0.0.1 (a free port) and drives it with the
# load generator (crates/tcp-async/examples/c10k.rs): HELD connections open, each checks one
# echo and then stays silent; beside them ACTIVE connections send 64-byte lines and wait for
# each echo, for SECONDS. Prints errors, requests/s, p50/p99/max latency and the server's peak
# memory (RSS), then checks the lesson's targets. Every run is bounded in time; nothing leaves
# this machine (loopback only).
#
#   bash scripts/bench-c10k-async.sh                 # about a minute on 2 cores
#   HELD=2000 SECONDS_PER_RUN=2 bash scripts/bench-c10k-async.sh
#
# RSS is read from /proc (Linux); elsewhere the column shows "n/a".
set -euo pipefail
cd "$(dirname "$0")/.."

HELD=${HELD:-10000}
ACTIVE=${ACTIVE:-100}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

echo "bench-c10k-async: building (release)"
cargo build --release --quiet -p tcp-async --bin tcp-async --example c10k -p tcp-threaded --bin tcp-threaded
ASYNC=$CARGO_TARGET_DIR/release/tcp-async
THREADED=$CARGO_TARGET_DIR/release/tcp-threaded
LOAD=$CARGO_TARGET_DIR/release/examples/c10k
command -v python3 >/dev/null || { echo "bench-c10k-async: python3 is needed" >&2; exit 1; }

# Each connection is a descriptor in the server and one in the load generator.
wanted=$((HELD + ACTIVE + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$wanted" ]; then
  ulimit -n "$wanted" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$wanted" ]; then
  echo "bench-c10k-async: $wanted open files needed, the limit is $(ulimit -n)" >&2
  exit 1
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
  echo "bench-c10k-async: the server did not start: $*" >&2
  cat "$tmp/server.out" >&2
  exit 1
}

# stop_server: SIGTERM (every server here stops gently), then SIGKILL after 10 s.
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

threads_now() {
  if [ -r "/proc/$server_pid/status" ]; then
    awk '/^Threads:/ { print $2 }' "/proc/$server_pid/status"
  else
    echo n/a
  fi
}

# The server's CPU time so far (user + system), in seconds: comparable however busy the machine.
cpu_seconds() {
  if [ -r "/proc/$server_pid/stat" ]; then
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$server_pid/stat"
  else
    echo n/a
  fi
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

row='%-30s %6s %7s %10s %8s %8s %8s %7s %8s %8s\n'
printf "$row" server held threads requests/s p50_ms p99_ms max_ms errors rss_MiB cpu_us/req >"$tmp/table"

# run NAME -- SERVER CMD…
run() {
  local name=$1
  shift 2
  start_server "$@"
  # The server's threads while the crowd is held: sampled once the held phase has reported.
  "$LOAD" "127.0.0.1:$port" "$HELD" "$ACTIVE" "$SECONDS_PER_RUN" >"$tmp/load.out" 2>"$tmp/load.err" &
  local load_pid=$! threads=n/a cpu_before=n/a
  for _ in $(seq 6000); do
    if grep -q '^held=' "$tmp/load.out" 2>/dev/null; then
      threads=$(threads_now)
      cpu_before=$(cpu_seconds)
      break
    fi
    kill -0 "$load_pid" 2>/dev/null || break
    sleep 0.01
  done
  local status=0
  wait "$load_pid" || status=$?
  local held_line active_line rss
  held_line=$(grep '^held=' "$tmp/load.out" || true)
  active_line=$(grep '^active=' "$tmp/load.out" || true)
  rss=$(peak_rss_mib)
  local cpu_after per_request=n/a
  cpu_after=$(cpu_seconds)
  local requests
  requests=$(field requests "$active_line")
  if [ "$cpu_before" != n/a ] && [ -n "$requests" ] && [ "$requests" -gt 0 ]; then
    # CPU the server spent in the active phase, per request (the held crowd is silent then).
    per_request=$(awk -v a="$cpu_after" -v b="$cpu_before" -v n="$requests" 'BEGIN { printf "%.1f", (a - b) * 1e6 / n }')
  fi
  stop_server
  local errors=$(( $(field errors "$held_line" || echo 0) + $(field errors "$active_line" || echo 0) ))
  if [ "$status" -ne 0 ] && [ "$errors" -eq 0 ]; then errors=failed; fi
  printf "$row" "$name" "$(field held "$held_line")" "$threads" \
    "$(field rps "$active_line")" "$(field p50_ms "$active_line")" "$(field p99_ms "$active_line")" \
    "$(field max_ms "$active_line")" "$errors" "$rss" "$per_request" | tee -a "$tmp/table"
  if [ -s "$tmp/load.err" ]; then sed 's/^/    /' "$tmp/load.err"; fi
  echo "$name|$held_line|$active_line rss_mib=$rss total_errors=$errors cpu_us_per_request=$per_request" >>"$tmp/results"
}

LIMIT=$((HELD + ACTIVE + 100))
echo "bench-c10k-async: $HELD held + $ACTIVE active connections, ${SECONDS_PER_RUN} s, 64-byte lines, $(nproc) cores"
run "tcp-async --workers 1" -- "$ASYNC" server --listen 127.0.0.1:0 --quiet --workers 1 --max-connections "$LIMIT"
run "tcp-async (default workers)" -- "$ASYNC" server --listen 127.0.0.1:0 --quiet --max-connections "$LIMIT"
run "tcp-threaded" -- "$THREADED" server --listen 127.0.0.1:0 --quiet --max-connections "$LIMIT"
run "python asyncio" -- python3 scripts/c10k_asyncio_server.py 0

echo
echo "bench-c10k-async: results ($HELD held, $ACTIVE active)"
cat "$tmp/table"

# The lesson's targets, checked on this run's numbers.
python3 - "$tmp/results" "$HELD" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, held, active = line.rstrip("\n").split("|")
    values = dict(f.split("=", 1) for f in (held + " " + active).split() if "=" in f)
    rows[name] = values
held = int(sys.argv[2])
python = rows.get("python asyncio")
print()
for name in ("tcp-async --workers 1", "tcp-async (default workers)"):
    rust = rows.get(name)
    if not rust:
        continue
    errors, rss = rust["total_errors"], rust["rss_mib"]
    ok = errors == "0" and rss != "n/a" and float(rss) < 64
    print(f"{name}: {errors} errors, peak RSS {rss} MiB "
          f"({'ok' if ok else 'MISSED'}: target 0 errors, < 64 MiB with {held} held)")
    if python and "rps" in rust and "rps" in python:
        ratio = float(rust["rps"]) / max(float(python["rps"]), 1.0)
        p99 = float(rust["p99_ms"])
        print(f"{name}: {ratio:.1f}x python asyncio's requests/s "
              f"({'ok' if ratio >= 3 else 'MISSED'}: target 3x), p99 {p99:.2f} ms "
              f"({'ok' if p99 < 20 else 'MISSED'}: target < 20 ms)")
PY
