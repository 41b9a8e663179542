#!/usr/bin/env bash
# How fast is the file-downloader lesson? Downloads one file (512 MiB by default) over 127.0.0.1,
# three runs each, tmpfs to tmpfs, and prints MB/s for:
#   - the lesson, its server sending through the 64 KiB copy loop, and with --sendfile;
#   - a competent Python pair (scripts/competent_downloader.py: the server uses socket.sendfile,
#     the client recv_into a reused 1 MiB buffer);
#   - the seed's Python client fixed to loop over recv(1024) (scripts/seed_downloader.py client),
#     against the lesson's server;
#   - the raw loopback limit: one stream, no protocol, nothing saved: the same file pushed into
#     one TcpStream by sendfile(2), read 1 MiB at a time by a sink that forgets it
#     (examples/raw_loopback.rs); and the same with std::io::copy, for comparison.
# It also reports the peak memory (RSS) of the lesson's servers and client.
#
# Targets: the lesson with --sendfile reaches at least 1.2x the competent Python pair and 90% of
# the raw loopback limit (medians), with servers and client under 20 MiB RSS. Exit 1 if one is
# missed (the table says by how much).
#
# Usage: bash scripts/bench-download.sh [SIZE_MIB]     (default 512; at most 4096)
# Linux only (sendfile, and /proc for the servers' memory). Everything stays on 127.0.0.1, every
# step has a time limit, and the files live in a temporary folder (tmpfs /dev/shm if there is
# room) that is removed at the end. Not a test: CI never runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

size_mib=${1:-512}
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
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
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

# start_server NAME COMMAND...: runs a server in the background, waits for its
# `listening on ADDR` line, and sets $port.
start_server() {
  local name=$1
  shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q '^listening on ' "$work/$name.log" && break
    sleep 0.1
  done
  port=$(sed -n 's/^listening on .*://p' "$work/$name.log" | head -1)
  [[ -n $port ]] || { echo "bench: $name did not start" >&2; cat "$work/$name.log" >&2; exit 1; }
}
echo "== starting the servers on 127.0.0.1:0"
start_server lesson "$bin" server --listen 127.0.0.1:0 --root "$work/root"
lesson_port=$port lesson_pid=${pids[-1]}
start_server lesson-sendfile "$bin" server --listen 127.0.0.1:0 --root "$work/root" --sendfile --trace
sendfile_port=$port sendfile_pid=${pids[-1]}
start_server python python3 "$repo/scripts/competent_downloader.py" server --port 0 --root "$work/root"
python_port=$port

rate() { sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' | tail -1; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# download PORT: the lesson's client, timed; sets $got to its MB/s and records its peak RSS.
client_rss=()
download() {
  local out
  out=$(timeout $limit /usr/bin/time -f 'rss_kib=%M' "$bin" client --connect "127.0.0.1:$1" big.bin \
    --output "$work/downloads/big.bin" --force --no-progress 2>&1)
  client_rss+=("$(sed -n 's/^rss_kib=//p' <<<"$out")")
  cmp -s "$file" "$work/downloads/big.bin" || { echo "bench: the download differs from the original" >&2; exit 1; }
  rm -f "$work/downloads/big.bin"
  got=$(rate <<<"$out")
}

copy_loop=() zero_copy=() competent=() seed=() raw_sendfile=() raw_copy=() raw_saved=()
for run in $(seq $runs); do
  echo "== run $run of $runs"
  download "$lesson_port"
  copy_loop+=("$got")
  download "$sendfile_port"
  zero_copy+=("$got")
  out=$(cd "$work/downloads" && timeout $limit python3 "$repo/scripts/competent_downloader.py" client big.bin \
    --port "$python_port" --output big.bin)
  competent+=("$(rate <<<"$out")")
  cmp -s "$file" "$work/downloads/big.bin" || { echo "bench: the Python download differs" >&2; exit 1; }
  rm -f "$work/downloads/big.bin"
  out=$(cd "$work/downloads" && timeout $limit python3 "$repo/scripts/seed_downloader.py" client big.bin \
    --port "$lesson_port" --output big.bin)
  seed+=("$(rate <<<"$out")")
  rm -f "$work/downloads/big.bin"
  raw_sendfile+=("$(timeout $limit "$raw" "$file" --send sendfile --recv-buffer 1048576 | rate)")
  raw_copy+=("$(timeout $limit "$raw" "$file" --send copy --recv-buffer 1048576 | rate)")
  raw_saved+=("$(timeout $limit "$raw" "$file" --send sendfile --recv-buffer 1048576 --save "$work/downloads/raw.bin" | rate)")
  rm -f "$work/downloads/raw.bin"
  echo "   lesson ${copy_loop[-1]} MB/s, --sendfile ${zero_copy[-1]}, competent Python ${competent[-1]}, seed's Python client ${seed[-1]}, raw sendfile ${raw_sendfile[-1]}, raw io::copy ${raw_copy[-1]}, raw sendfile saved ${raw_saved[-1]}"
done
lesson_rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$lesson_pid/status")
sendfile_rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$sendfile_pid/status")
server_rss=$((lesson_rss > sendfile_rss ? lesson_rss : sendfile_rss))
max_client_rss=$(printf '%s\n' "${client_rss[@]}" | sort -g | tail -1)
trace=$(grep -m1 'sent the body' "$work/lesson-sendfile.log" || true)

m_loop=$(median "${copy_loop[@]}")
m_zero=$(median "${zero_copy[@]}")
m_competent=$(median "${competent[@]}")
m_seed=$(median "${seed[@]}")
m_raw=$(median "${raw_sendfile[@]}")
m_copy=$(median "${raw_copy[@]}")
m_saved=$(median "${raw_saved[@]}")
row() { echo "| $1 | $2 | $3 | $4 | **$5** |"; }

echo
echo "| ${size_mib} MiB over 127.0.0.1, tmpfs to tmpfs ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)) | run 1 | run 2 | run 3 | median MB/s |"
echo "|---|---|---|---|---|"
row "raw loopback limit: sendfile(2) into one socket, a sink reads 1 MiB at a time, no protocol, nothing saved" "${raw_sendfile[@]}" "$m_raw"
row "raw loopback, std::io::copy instead of sendfile" "${raw_copy[@]}" "$m_copy"
row "raw loopback, sendfile, the sink saves what it reads (1 MiB writes): what any downloader must do" "${raw_saved[@]}" "$m_saved"
row "file-downloader, server --sendfile" "${zero_copy[@]}" "$m_zero"
row "file-downloader, server copy loop (64 KiB)" "${copy_loop[@]}" "$m_loop"
row "competent Python pair: socket.sendfile, recv_into 1 MiB" "${competent[@]}" "$m_competent"
row "the seed's Python client, recv(1024) loop, from the lesson's server" "${seed[@]}" "$m_seed"
echo
echo "peak RSS: servers $((server_rss / 1024)) MiB, client $((max_client_rss / 1024)) MiB"
echo "server --sendfile --trace: ${trace#trace: }"

missed=0
check() { # description, condition as an awk expression
  if awk "BEGIN {exit !($2)}"; then echo "target met:    $1"; else echo "target MISSED: $1"; missed=1; fi
}
ratio() { awk "BEGIN {printf \"%.2f\", $1 / $2}"; }
check "--sendfile >= 1.2x the competent Python pair ($m_zero vs $m_competent MB/s: $(ratio "$m_zero" "$m_competent")x)" "$m_zero >= 1.2 * $m_competent"
check "--sendfile >= 90% of the raw loopback limit ($m_zero vs $m_raw MB/s: $(ratio "$m_zero" "$m_raw")x)" "$m_zero >= 0.9 * $m_raw"
check "server RSS < 20 MiB ($((server_rss / 1024)) MiB)" "$server_rss < 20480"
check "client RSS < 20 MiB ($((max_client_rss / 1024)) MiB)" "$max_client_rss < 20480"
exit $missed
