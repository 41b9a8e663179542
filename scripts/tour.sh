#!/usr/bin/env bash
# The five-minute overview of the course: every lesson's demo, in the book's order, each under
# a header that says what to watch for. Usage: bash scripts/tour.sh [--trace]
set -euo pipefail
cd "$(dirname "$0")/.."

# lesson|what to watch for — in the order of docs/src/SUMMARY.md
lessons=(
  "tcp-echo|a blocking TCP server: socket, bind, listen, accept, recv until the client closes"
  "tcp-threaded|one thread per client: the same five clients, served one by one and then all at once"
  "tcp-nonblocking|one thread, a thousand clients at once: non-blocking sockets and a readiness loop"
  "tcp-async|a task per client: a hundred clients on one thread, and one blocking call stalling them"
  "udp-bind|UDP: the server binds, each unbound client gets a new port from the OS"
  "udp-chat|two chat programs talking over UDP, no connection anywhere"
  "file-downloader|a file transfer framed by a length header; a request outside the root refused"
  "long-short|long vs short connections: the same requests, measured both ways"
)

bold='' plain=''
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; fi

echo "Building the lessons (once)..."
cargo build --quiet --workspace
for entry in "${lessons[@]}"; do
  lesson=${entry%%|*}
  [ -d "crates/lessons/$lesson" ] || continue
  printf '\n%s== %s%s — %s\n== cargo run -p %s -- demo%s\n\n' \
    "$bold" "$lesson" "$plain" "${entry#*|}" "$lesson" "${*:+ $*}"
  cargo run --quiet -p "$lesson" -- demo "$@"
done
printf '\nThat was every lesson. Each one has a chapter in the book: mdbook serve docs --open\n'
