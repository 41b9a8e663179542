#!/usr/bin/env bash
# How fast is the file-downloader lesson? Downloads one file (1 GiB by default) over 127.0.0.1,
# three runs each, and prints MB/s next to two yardsticks:
#   - the raw loopback limit: the same file pushed into one TcpStream by std::io::copy and read
#     1 MiB at a time by a sink, with no protocol and no disk write (examples/raw_loopback.rs);
#     the same with the server's 64 KiB read/write loop instead of io::copy; and that loop with
#     the sink saving what it reads to a file, as any downloader must, in 64 KiB or 1 MiB writes;
#   - the seed's Python downloader, fixed to loop over recv(1024) until the length is reached
#     (scripts/seed_downloader.py client), against the same Rust server.
# It also reports the peak memory (RSS) of the lesson's server and client.
#
# Targets (issue 5): the lesson reaches at least 70% of the raw io::copy figure and at least 2x
# the Python downloader, with server and client under 20 MiB RSS. Exit 1 if one is missed.
#
# Usage: bash scripts/bench-download.sh [SIZE_MIB]     (default 1024; at most 4096)
# Linux only (it reads /proc for the server's memory). Everything stays on 127.0.0.1, every
# step has a time limit, and the files live in a temporary folder (tmpfs /dev/shm if there is
# room) that is removed at the end. Not a test: CI never runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

size_mib=${1:-1024}
if ! [[ $size_mib =~ ^[0-9]+$ ]] || ((size_mib < 1 || size_mib > 4096)); then
  echo "usage: bash scripts/bench-download.sh [SIZE_MIB]   (1 to 4096)" >&2
  exit 2
fi
runs=3
[[ -x /usr/bin/time ]] || { echo "bench: needs /usr/bin/time to measure memory (apt-get install time)" >&2; exit 1; }
limit=300 # seconds for any one step

# A folder with room for the file and one download of it, on tmpfs when possible: the point is
# the network path, not the disk.
need_kib=$((size_mib * 1024 * 2 + 65536))
base=""
for candidate in /dev/shm "${TMPDIR:-/tmp}"; do
  if [[ -d $candidate && -w $candidate ]] && (($(df -Pk "$candidate" | awk 'NR==2 {print $4}') > need_kib)); then
    base=$candidate
    break
  fi
done
[[ -n $base ]] || { echo "bench: no temporary folder with $((need_kib / 1024)) MiB free" >&2; exit 1; }
work=$(mktemp -d "$base/bench-download.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building (release)"
cargo build --release --quiet -p file-downloader --bin file-downloader --example raw_loopback
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin=$target/release/file-downloader
raw=$target/release/examples/raw_loopback

echo "== a ${size_mib} MiB file of random bytes in $work"
mkdir -p "$work/root" "$work/downloads"
file=$work/root/big.bin
head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$file"
cat "$file" >/dev/null # in the page cache before the first run

echo "== starting the lesson's server on 127.0.0.1:0"
"$bin" server --listen 127.0.0.1:0 --root "$work/root" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$work/server.log" && break
  sleep 0.1
done
addr=$(sed -n 's/^listening on //p' "$work/server.log")
[[ -n $addr ]] || { echo "bench: the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
port=${addr##*:}

rate() { sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' | tail -1; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

lesson=() raw_copy=() raw_loop=() raw_save64=() raw_save1m=() python=() client_rss=()
for run in $(seq $runs); do
  echo "== run $run of $runs"
  out=$(timeout $limit /usr/bin/time -f 'rss_kib=%M' "$bin" client --connect "$addr" big.bin \
    --output "$work/downloads/big.bin" --force --no-progress 2>&1)
  lesson+=("$(rate <<<"$out")")
  client_rss+=("$(sed -n 's/^rss_kib=//p' <<<"$out")")
  if ((run == 1)); then
    cmp -s "$file" "$work/downloads/big.bin" || { echo "bench: the download differs from the original" >&2; exit 1; }
  fi
  rm -f "$work/downloads/big.bin"

  # The sink reads 1 MiB at a time, like the lesson's client.
  raw_copy+=("$(timeout $limit "$raw" "$file" --send copy --recv-buffer 1048576 | rate)")
  raw_loop+=("$(timeout $limit "$raw" "$file" --send loop --recv-buffer 1048576 | rate)")
  for size in 65536 1048576; do
    out=$(timeout $limit "$raw" "$file" --send loop --recv-buffer $size --save "$work/downloads/raw.bin" | rate)
    if ((size == 65536)); then raw_save64+=("$out"); else raw_save1m+=("$out"); fi
    rm -f "$work/downloads/raw.bin"
  done

  out=$(cd "$work/downloads" && timeout $limit python3 "$repo/scripts/seed_downloader.py" client big.bin \
    --port "$port" --output big.bin)
  python+=("$(rate <<<"$out")")
  rm -f "$work/downloads/big.bin"
  echo "   lesson ${lesson[-1]} MB/s, raw io::copy ${raw_copy[-1]}, raw 64 KiB loop ${raw_loop[-1]}, raw saved 64 KiB ${raw_save64[-1]}, 1 MiB ${raw_save1m[-1]}, Python ${python[-1]}"
done
server_rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")

m_lesson=$(median "${lesson[@]}")
m_copy=$(median "${raw_copy[@]}")
m_loop=$(median "${raw_loop[@]}")
m_save64=$(median "${raw_save64[@]}")
m_save1m=$(median "${raw_save1m[@]}")
m_python=$(median "${python[@]}")
max_client_rss=$(printf '%s\n' "${client_rss[@]}" | sort -g | tail -1)

echo
echo "| ${size_mib} MiB over 127.0.0.1 ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)) | run 1 | run 2 | run 3 | median MB/s |"
echo "|---|---|---|---|---|"
echo "| raw loopback: std::io::copy (8 KiB) into the socket, a sink reads 1 MiB at a time | ${raw_copy[0]} | ${raw_copy[1]} | ${raw_copy[2]} | $m_copy |"
echo "| raw loopback: a 64 KiB read/write loop instead of io::copy | ${raw_loop[0]} | ${raw_loop[1]} | ${raw_loop[2]} | $m_loop |"
echo "| raw loopback, 64 KiB loop, the sink saves the file in 64 KiB writes | ${raw_save64[0]} | ${raw_save64[1]} | ${raw_save64[2]} | $m_save64 |"
echo "| raw loopback, 64 KiB loop, the sink saves the file in 1 MiB writes | ${raw_save1m[0]} | ${raw_save1m[1]} | ${raw_save1m[2]} | $m_save1m |"
echo "| file-downloader: server sends 64 KiB, client saves 1 MiB at a time | ${lesson[0]} | ${lesson[1]} | ${lesson[2]} | $m_lesson |"
echo "| Python client, recv(1024) loop | ${python[0]} | ${python[1]} | ${python[2]} | $m_python |"
echo
echo "peak RSS: server $((server_rss / 1024)) MiB, client $((max_client_rss / 1024)) MiB"

missed=0
check() { # description, condition as an awk expression
  if awk "BEGIN {exit !($2)}"; then echo "target met:    $1"; else echo "target MISSED: $1"; missed=1; fi
}
check "lesson >= 70% of raw io::copy ($m_lesson vs $m_copy MB/s)" "$m_lesson >= 0.7 * $m_copy"
check "lesson >= 2x the Python downloader ($m_lesson vs $m_python MB/s)" "$m_lesson >= 2 * $m_python"
check "server RSS < 20 MiB ($((server_rss / 1024)) MiB)" "$server_rss < 20480"
check "client RSS < 20 MiB ($((max_client_rss / 1024)) MiB)" "$max_client_rss < 20480"
exit $missed
