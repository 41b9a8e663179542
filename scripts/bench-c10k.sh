#!/usr/bin/env bash
# Benchmark for the tcp-nonblocking and tcp-async lessons (a script, not a test): the C10K
# problem, measured, the three designs side by side in one run. Builds in release mode, then for
# each server in the list below — a thread per connection (tcp-threaded), one readiness loop
# (tcp-nonblocking), a task per connection on tokio's runtime threads (tcp-async with
# `--workers 1` and with the default, one worker per core), and the two servers a Python
# programmer would write for the job (scripts/c10k_selectors_server.py,
# scripts/c10k_asyncio_server.py) — holds HOLD idle connections open (0, 1,000, then 10,000)
# while 100 active ones send a line and wait for its echo, again and again, for SECONDS_PER_RUN
# seconds. The load generator is `tcp-nonblocking client --connections 100 --idle HOLD
# --duration S`: one thread, every echo checked. Reports requests/s, p50/p99 latency, errors,
# the server's peak RSS and its thread count, and the CPU time the server used during the run
# (medians of RUNS runs; errors summed over them), then the ratios and both lessons' targets.
# On a machine whose cores are all busy the load generator, not the server, sets the pace: then
# cpu_s, the server's cost, tells them apart; the load average is printed before and after.
# Then the CPU an idle server burns: `server --busy-poll` against the readiness loop.
#
#   bash scripts/bench-c10k.sh                   # about fifteen minutes on 2 cores
#   RUNS=1 HOLDS="0 10000" SECONDS_PER_RUN=2 bash scripts/bench-c10k.sh
#
# Everything runs on 127.0.0.1; every run is bounded in time. RSS and threads come from /proc
# (Linux); elsewhere those columns show "n/a".
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
HOLDS=${HOLDS:-"0 1000 10000"}
ACTIVE=${ACTIVE:-100}
RUNS=${RUNS:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
RELEASE=$CARGO_TARGET_DIR/release

# The servers: "name|command", one line each, started with a free port (0) as their last
# argument or --listen 127.0.0.1:0, and printing `listening on ADDR` first. A server whose
# binary is not there (a lesson not in this checkout) is skipped.
servers=(
  "tcp-threaded|$RELEASE/tcp-threaded server --listen 127.0.0.1:0 --quiet --max-connections 20000"
  "tcp-nonblocking|$RELEASE/tcp-nonblocking server --listen 127.0.0.1:0 --quiet --max-connections 20000"
  "tcp-async --workers 1|$RELEASE/tcp-async server --listen 127.0.0.1:0 --quiet --workers 1 --max-connections 20000"
  "tcp-async|$RELEASE/tcp-async server --listen 127.0.0.1:0 --quiet --max-connections 20000"
  "python selectors|python3 scripts/c10k_selectors_server.py 0"
  "python asyncio|python3 scripts/c10k_asyncio_server.py 0"
)

echo "bench-c10k: building (release)"
packages=()
for entry in "${servers[@]}"; do
  command=${entry#*|}
  binary=${command%% *}
  name=${binary##*/}
  if [[ $binary == "$RELEASE/"* ]] && [ -d "crates/lessons/$name" ] && [[ " ${packages[*]} " != *" $name "* ]]; then
    packages+=(-p "$name")
  fi
done
if [[ " ${packages[*]} " != *" tcp-nonblocking "* ]]; then packages+=(-p tcp-nonblocking); fi
cargo build --release --quiet "${packages[@]}"
LOAD=$RELEASE/tcp-nonblocking

# Each process needs a descriptor per connection: raise the soft limit as far as allowed.
wanted=$((${HOLDS##* } + ACTIVE + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$wanted" ]; then
  ulimit -n "$wanted" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
echo "bench-c10k: open-file limit $(ulimit -n) (wanted $wanted)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$wanted" ]; then
  echo "bench-c10k: cannot raise the open-file limit to $wanted (hard limit $(ulimit -Hn)): expect errors at the largest hold"
fi

tmp=$(mktemp -d)
server_pid=
sampler_pid=
cleanup() {
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; fi
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
  echo "bench-c10k: the server did not start: $*" >&2
  cat "$tmp/server.out" >&2
  exit 1
}

# stop_server: SIGTERM, then SIGKILL after 10 s.
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

# The most threads the server had, sampled every 0.2 s into $tmp/threads while it runs.
sample_threads() {
  local most=0 now
  while [ -r "/proc/$server_pid/status" ]; do
    now=$(awk '/^Threads:/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null || echo 0)
    if [ "${now:-0}" -gt "$most" ]; then most=$now; echo "$most" >"$tmp/threads"; fi
    sleep 0.2
  done
}

peak_rss_mib() {
  if [ -r "/proc/$server_pid/status" ]; then
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"
  else
    echo n/a
  fi
}

# The CPU time (user + system) the server has used so far, in clock ticks (100 a second).
cpu_ticks() {
  if [ -r "/proc/$server_pid/stat" ]; then
    awk '{ print $14 + $15 }' "/proc/$server_pid/stat"
  else
    echo n/a
  fi
}

# median V…: the middle value (n/a if any is n/a).
median() {
  if printf '%s\n' "$@" | grep -q n/a; then echo n/a; return; fi
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# one_run NAME HOLD CMD…: prints "rps p50 p99 errors rss threads".
one_run() {
  local hold=$2
  shift 2
  start_server "$@"
  echo 0 >"$tmp/threads"
  if [ -r "/proc/$server_pid/status" ]; then
    sample_threads &
    sampler_pid=$!
  else
    echo n/a >"$tmp/threads"
  fi
  local out cpu_before cpu_after
  cpu_before=$(cpu_ticks)
  out=$("$LOAD" client --connect "127.0.0.1:$port" --connections "$ACTIVE" --idle "$hold" \
    --duration "$SECONDS_PER_RUN" --timeout 10 2>"$tmp/load.err") || true
  local rss
  rss=$(peak_rss_mib)
  cpu_after=$(cpu_ticks)
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=; fi
  stop_server
  local summary rates
  summary=$(grep -E '^[0-9]+ connections, ' <<<"$out" || echo "0 connections, 0 replies checked, $((hold + ACTIVE)) errors")
  rates=$(grep -E ' requests/s, ' <<<"$out" || echo "0 requests/s, p50 n/a ms, p99 n/a ms")
  local errors rps p50 p99
  errors=$(sed -E 's/.* ([0-9]+) errors.*/\1/' <<<"$summary")
  rps=$(sed -E 's/^([0-9]+) requests.*/\1/' <<<"$rates")
  p50=$(sed -E 's/.*p50 ([0-9.na\/]+) ms.*/\1/' <<<"$rates")
  p99=$(sed -E 's/.*p99 ([0-9.na\/]+) ms.*/\1/' <<<"$rates")
  if [ -s "$tmp/load.err" ]; then sed 's/^/    /' "$tmp/load.err" | head -n 3 >&2; fi
  local cpu=n/a
  if [ "$cpu_before" != n/a ] && [ "$cpu_after" != n/a ]; then
    cpu=$(awk -v t=$((cpu_after - cpu_before)) 'BEGIN { printf "%.2f", t / 100 }')
  fi
  echo "$rps $p50 $p99 $errors $rss $(cat "$tmp/threads") $cpu"
}

echo "bench-c10k: $ACTIVE active connections for ${SECONDS_PER_RUN} s with 0 to ${HOLDS##* } idle ones held open; median of $RUNS runs"
echo "bench-c10k: $(nproc) cores, shared by the server and the load generator (and anything else running): the figures are lower than on a machine with spare cores"
# The load average (1, 5 and 15 minutes): how busy the machine was, before and after.
load_average() { if [ -r /proc/loadavg ]; then cut -d' ' -f1-3 /proc/loadavg; else uptime | sed 's/.*load averages*: //'; fi; }
echo "bench-c10k: load average $(load_average) at the start"
header=$(printf '%-21s %6s %10s %8s %8s %7s %8s %7s %6s' server held requests/s p50_ms p99_ms errors rss_MiB threads cpu_s)
echo "$header" | tee "$tmp/table"
for hold in $HOLDS; do
  for entry in "${servers[@]}"; do
    name=${entry%%|*}
    read -r -a command <<<"${entry#*|}"
    if [[ ${command[0]} == */* ]] && [ ! -x "${command[0]}" ]; then
      echo "bench-c10k: skipped $name: ${command[0]} is not built" >&2
      continue
    fi
    if [ "${command[0]}" = python3 ] && ! command -v python3 >/dev/null; then
      echo "bench-c10k: skipped $name: python3 is not installed" >&2
      continue
    fi
    rps=() p50=() p99=() rss=() threads=() cpu=() errors=0
    for _ in $(seq "$RUNS"); do
      read -r r a b e m t c < <(one_run "$name" "$hold" "${command[@]}")
      rps+=("$r") p50+=("$a") p99+=("$b") rss+=("$m") threads+=("$t") cpu+=("$c")
      errors=$((errors + e))
    done
    line=$(printf '%-21s %6s %10s %8s %8s %7s %8s %7s %6s' "$name" "$hold" "$(median "${rps[@]}")" \
      "$(median "${p50[@]}")" "$(median "${p99[@]}")" "$errors" "$(median "${rss[@]}")" \
      "$(median "${threads[@]}")" "$(median "${cpu[@]}")")
    echo "$line" | tee -a "$tmp/table"
    echo "$name|$hold|$(median "${rps[@]}")|$(median "${p99[@]}")|$errors|$(median "${rss[@]}")|$(median "${threads[@]}")" >>"$tmp/results"
  done
done

echo "bench-c10k: load average $(load_average) at the end"

# value NAME HOLD FIELD: a figure from the results (3 rps, 4 p99, 5 errors, 6 rss, 7 threads).
value() { awk -F'|' -v n="$1" -v h="$2" -v f="$3" '$1 == n && $2 == h { print $f }' "$tmp/results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.1f", a / b }'; }

big=${HOLDS##* }
echo
echo "ratios, requests/s with $big held:"
nb=$(value tcp-nonblocking "$big" 3)
for entry in "${servers[@]}"; do
  name=${entry%%|*}
  [ "$name" = tcp-nonblocking ] && continue
  other=$(value "$name" "$big" 3)
  [ -n "$other" ] && echo "  tcp-nonblocking / $name: $(ratio "$nb" "$other")x"
done

echo
echo "targets (tcp-nonblocking, $big held):"
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "NOT met"; fi; }
errors=$(value tcp-nonblocking "$big" 5)
threads=$(value tcp-nonblocking "$big" 7)
rss=$(value tcp-nonblocking "$big" 6)
p99=$(value tcp-nonblocking "$big" 4)
asyncio=$(value "python asyncio" "$big" 3)
threaded100=$(value tcp-threaded 0 3)
echo "  0 errors: $errors errors — $(verdict "$([ "${errors:-1}" = 0 ] && echo 1)")"
echo "  RSS under 64 MiB: ${rss} MiB — $(verdict "$(awk -v r="$rss" 'BEGIN { print (r != "" && r != "n/a" && r < 64) }')")"
echo "  1 thread: $threads threads (the loop, and the ctrlc crate's signal thread, asleep) — $(verdict "$([ "${threads:-0}" = 1 ] && echo 1)")"
echo "  3x python asyncio's requests/s: $(ratio "$nb" "$asyncio")x — $(verdict "$(awk -v a="$nb" -v b="$asyncio" 'BEGIN { print (b != "" && a >= 3 * b) }')")"
echo "  p99 under 20 ms: ${p99} ms — $(verdict "$(awk -v p="$p99" 'BEGIN { print (p != "" && p != "n/a" && p < 20) }')")"
echo "  at least tcp-threaded's requests/s at $ACTIVE connections ($threaded100): $nb — $(verdict "$(awk -v a="$nb" -v b="$threaded100" 'BEGIN { print (b != "" && a >= b) }')")"

# The tcp-async lesson's targets, for each of its two lines: 10,000 held with 0 errors in under
# 64 MiB; with them held and 100 active, 3x python asyncio's requests/s and a p99 under 20 ms.
for name in "tcp-async --workers 1" tcp-async; do
  ta=$(value "$name" "$big" 3)
  [ -n "$ta" ] || continue
  errors=$(value "$name" "$big" 5)
  rss=$(value "$name" "$big" 6)
  p99=$(value "$name" "$big" 4)
  echo
  echo "targets ($name, $big held):"
  echo "  0 errors: $errors errors — $(verdict "$([ "${errors:-1}" = 0 ] && echo 1)")"
  echo "  RSS under 64 MiB: ${rss} MiB — $(verdict "$(awk -v r="$rss" 'BEGIN { print (r != "" && r != "n/a" && r < 64) }')")"
  echo "  3x python asyncio's requests/s: $(ratio "$ta" "$asyncio")x — $(verdict "$(awk -v a="$ta" -v b="$asyncio" 'BEGIN { print (b != "" && a >= 3 * b) }')")"
  echo "  p99 under 20 ms: ${p99} ms — $(verdict "$(awk -v p="$p99" 'BEGIN { print (p != "" && p != "n/a" && p < 20) }')")"
done

# The naive loop: how much CPU an idle server burns in 2 s (clock ticks from /proc: 100 a second).
if [ -r /proc/self/stat ]; then
  echo
  echo "CPU used by an idle server in 2 s, no client connected:"
  for mode in "--busy-poll" ""; do
    # shellcheck disable=SC2086
    start_server "$RELEASE/tcp-nonblocking" server --listen 127.0.0.1:0 --quiet $mode
    before=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
    sleep 2
    after=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
    stop_server
    label=${mode:-"readiness loop (poll)"}
    awk -v l="$label" -v t=$((after - before)) 'BEGIN { printf "  %-24s %.2f s of CPU\n", l, t / 100 }'
  done
fi
