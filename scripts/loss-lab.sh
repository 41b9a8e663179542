#!/usr/bin/env bash
# The loss lab: three lessons through `relay`, a relay that loses and delays on purpose, with a
# fixed seed so that every run loses the same messages.
#
#   udp-bind   client and server through `relay udp`: lost requests and lost replies both end
#              in the client's timeout (one client run per message: the client stops at its
#              first timeout, as the lesson's does)
#   udp-chat   alice and bob through `relay udp`: lines lost both ways, and nobody is told
#   tcp-echo   client and server through `relay tcp`: every line comes back, only later
#
# Prints a table (sent, received, lost, timeouts, the round trip without and with the relay)
# and ends with one `loss-lab: …` line. Exits 1 if TCP lost anything, if the figures are
# impossible (more received than sent, a round trip shorter than the delay, the relay's counts
# and the programs' disagreeing), or if the counts differ from scripts/loss-lab.txt, the figures
# the book shows: same seed, same losses. After changing a lesson on purpose, run
# `bash scripts/loss-lab.sh --update` and commit the new figures.
set -euo pipefail
cd "$(dirname "$0")/.."

SEED=42
LOSS=0.2        # of the datagrams, in each direction
DELAY_MS=50     # in each direction
COUNT=20        # messages per run and direction
TIMEOUT=1       # seconds the udp-bind client waits for a reply: far above the 100 ms round trip
EXPECTED=scripts/loss-lab.txt

update=false
case "${1:-}" in
  --update) update=true ;;
  "") ;;
  *) echo "usage: bash scripts/loss-lab.sh [--update]" >&2; exit 2 ;;
esac

fail() { echo "loss-lab: FAILED: $*" >&2; exit 1; }

echo "loss-lab: building relay, udp-bind, udp-chat and tcp-echo" >&2
cargo build --quiet -p relay -p udp-bind -p udp-chat -p tcp-echo
target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="$target/debug"
exe=""
[ -x "$bin/relay.exe" ] && exe=.exe
relay="$bin/relay$exe" udp_bind="$bin/udp-bind$exe" udp_chat="$bin/udp-chat$exe" tcp_echo="$bin/tcp-echo$exe"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Microseconds since some moment: bash 5's $EPOCHREALTIME, or python3 where bash is older.
now_us() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    echo "${EPOCHREALTIME/[.,]/}"
  else
    python3 -c 'import time; print(int(time.time() * 1e6))'
  fi
}

# wait_until WHAT COMMAND…: retries COMMAND until it succeeds, for 15 s at most.
wait_until() {
  local what=$1 deadline=$((SECONDS + 15))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "no $what within 15 s"
    sleep 0.02
  done
}

# count FILE TEXT: how many lines of FILE contain TEXT.
count() { grep -c -F -- "$2" "$1" 2>/dev/null || true; }
has() { grep -q -F -- "$2" "$1" 2>/dev/null; }
at_least() { [ "$(count "$1" "$2")" -ge "$3" ]; }

# start NAME COMMAND…: runs COMMAND in the background (stdin from $work/NAME.in if it exists),
# and sets $addr to the address of its first line, `listening on ADDR` or `bound to ADDR`.
start() {
  local name=$1
  shift
  if [ -p "$work/$name.in" ]; then
    "$@" <"$work/$name.in" >"$work/$name.out" 2>"$work/$name.err" &
  else
    "$@" </dev/null >"$work/$name.out" 2>"$work/$name.err" &
  fi
  pids+=("$!")
  last_pid=$!
}
address_of() {
  local name=$1
  wait_until "first line from $name" has "$work/$name.out" " "
  addr=$(sed -n -E '1s/^(listening on|bound to) //p' "$work/$name.out")
  [ -n "$addr" ] || fail "$name did not start: $(cat "$work/$name.out" "$work/$name.err")"
}

# stop_relay NAME PID: Ctrl-C's signal (SIGTERM here) makes the relay print its summary.
stop_relay() {
  kill -TERM "$2"
  wait_until "summary from $1" has "$work/$1.out" "summary: "
  summary=$(grep -F "summary: " "$work/$1.out")
}

# field SUMMARY PART NAME: a count from the relay's summary, e.g. the `dropped=` of `to clients:`.
field() { sed -E "s/.*$2[^;)]*$3=([0-9]+).*/\1/" <<<"$1"; }

# relayed FILE FROM TO [VERB]: how many of the relay's --verbose lines (`forwarded 13 bytes from
# A to B`, `dropped …`) went from FROM to TO; * stands for any address.
relayed() {
  awk -v from="$2" -v to="$3" -v verb="${4:-}" '
    (verb == "" || $1 == verb) && $4 == "from" && (from == "*" || $5 == from) && (to == "*" || $7 == to) { n++ }
    END { print n + 0 }' "$1"
}
relayed_at_least() { [ "$(relayed "$1" "$2" "$3")" -ge "$4" ]; }

ms() { awk -v us="$1" -v n="$2" 'BEGIN { printf "%.1f ms", us / n / 1000 }'; }
delay_us=$((DELAY_MS * 1000))

# --- udp-bind -----------------------------------------------------------------------------
start udp-server "$udp_bind" server --bind 127.0.0.1:0
address_of udp-server
server=$addr

# Without the relay: loopback loses nothing.
direct_us=0
for i in $(seq "$COUNT"); do
  t0=$(now_us)
  "$udp_bind" client --server "$server" --message "ping $i" --timeout "$TIMEOUT" >/dev/null 2>"$work/client.err" ||
    fail "udp-bind lost a message without the relay: $(cat "$work/client.err")"
  direct_us=$((direct_us + $(now_us) - t0))
done

start udp-relay "$relay" udp --listen 127.0.0.1:0 --to "$server" \
  --loss "$LOSS" --delay "${DELAY_MS}ms" --seed "$SEED"
relay_pid=$last_pid
address_of udp-relay
through=$addr
received=0 timeouts=0 relayed_us=0 shortest_us=""
for i in $(seq "$COUNT"); do
  t0=$(now_us)
  if "$udp_bind" client --server "$through" --message "ping $i" --timeout "$TIMEOUT" >/dev/null 2>"$work/client.err"; then
    took=$(($(now_us) - t0))
    received=$((received + 1))
    relayed_us=$((relayed_us + took))
    if [ -z "$shortest_us" ] || [ "$took" -lt "$shortest_us" ]; then shortest_us=$took; fi
  elif has "$work/client.err" "no reply from $through within $TIMEOUT s"; then
    timeouts=$((timeouts + 1))
  else
    fail "udp-bind client: $(cat "$work/client.err")"
  fi
done
stop_relay udp-relay "$relay_pid"
udp_summary=$summary
lost=$((COUNT - received))
requests_dropped=$(field "$udp_summary" "to upstream:" dropped)
requests_forwarded=$(field "$udp_summary" "to upstream:" forwarded)
replies_dropped=$(field "$udp_summary" "to clients:" dropped)
replies_forwarded=$(field "$udp_summary" "to clients:" forwarded)
server_heard=$(($(count "$work/udp-server.out" "received from") - COUNT))
[ "$timeouts" -eq "$lost" ] || fail "udp-bind: $lost lost but $timeouts timeouts"
[ $((requests_dropped + requests_forwarded)) -eq "$COUNT" ] ||
  fail "udp-bind: the relay passed on or dropped $((requests_dropped + requests_forwarded)) of $COUNT requests"
[ "$server_heard" -eq "$requests_forwarded" ] ||
  fail "udp-bind: the relay forwarded $requests_forwarded requests, the server got $server_heard"
[ $((replies_dropped + replies_forwarded)) -eq "$server_heard" ] ||
  fail "udp-bind: the server answered $server_heard requests, the relay saw $((replies_dropped + replies_forwarded)) replies"
[ "$received" -eq "$replies_forwarded" ] ||
  fail "udp-bind: the relay forwarded $replies_forwarded replies, the client got $received"
[ "$received" -eq 0 ] || [ "$shortest_us" -ge $((2 * delay_us)) ] ||
  fail "udp-bind: a round trip took $shortest_us µs, less than twice the delay"
udp_bind_row=$(printf '%-24s %5d %9d %5d %9d %12s %14s' "udp-bind client/server" \
  "$COUNT" "$received" "$lost" "$timeouts" "$(ms "$direct_us" "$COUNT")" \
  "$( [ "$received" -gt 0 ] && ms "$relayed_us" "$received" || echo -)")
udp_bind_note="udp-bind's $lost timeouts: $requests_dropped requests lost on the way there, $replies_dropped replies on the way back"

# --- udp-chat -----------------------------------------------------------------------------
# Each chat reads its lines from a named pipe that this script writes, when it chooses.
mkfifo "$work/bob.in" "$work/alice.in"
start bob "$udp_chat" --bind 127.0.0.1:0
exec 4>"$work/bob.in"
address_of bob
bob=$addr
start chat-relay "$relay" udp --listen 127.0.0.1:0 --to "$bob" \
  --loss "$LOSS" --delay "${DELAY_MS}ms" --seed "$SEED" --verbose
chat_relay_pid=$last_pid
address_of chat-relay
start alice "$udp_chat" --bind 127.0.0.1:0 --peer "$addr"
exec 3>"$work/alice.in"
address_of alice

for i in $(seq "$COUNT"); do echo "alice says $i" >&3; done
# The relay says what it did with each line (--verbose); then bob has printed all it will get.
wait_until "word from the relay on alice's lines" relayed_at_least "$work/chat-relay.out" "*" "$bob" "$COUNT"
to_bob=$(relayed "$work/chat-relay.out" "*" "$bob" forwarded)
wait_until "alice's lines at bob's" at_least "$work/bob.out" "received from" "$to_bob"
bob_got=$(count "$work/bob.out" "received from")

alice_got=0 bob_sent=0
if [ "$bob_got" -gt 0 ]; then
  # Bob answers whoever wrote last: the relay, which passes it on to alice.
  bob_sent=$COUNT
  for i in $(seq "$COUNT"); do echo "bob says $i" >&4; done
  wait_until "word from the relay on bob's lines" relayed_at_least "$work/chat-relay.out" "$bob" "*" "$COUNT"
  to_alice=$(relayed "$work/chat-relay.out" "$bob" "*" forwarded)
  wait_until "bob's lines at alice's" at_least "$work/alice.out" "received from" "$to_alice"
  alice_got=$(count "$work/alice.out" "received from")
fi
exec 3>&- 4>&- # end of input: both chats close their sockets and exit
stop_relay chat-relay "$chat_relay_pid"
if [ "$bob_got" -gt "$COUNT" ] || [ "$alice_got" -gt "$bob_sent" ]; then
  fail "udp-chat: more lines received than sent"
fi
[ "$bob_got" -eq "$to_bob" ] || fail "udp-chat: the relay forwarded $to_bob lines to bob, who got $bob_got"
chat_row_1=$(printf '%-24s %5d %9d %5d %9s %12s %14s' "udp-chat alice -> bob" \
  "$COUNT" "$bob_got" $((COUNT - bob_got)) - - -)
chat_row_2=$(printf '%-24s %5d %9d %5d %9s %12s %14s' "udp-chat bob -> alice" \
  "$bob_sent" "$alice_got" $((bob_sent - alice_got)) - - -)

# --- tcp-echo -----------------------------------------------------------------------------
start tcp-server "$tcp_echo" server --listen 127.0.0.1:0
address_of tcp-server
tcp_server=$addr
messages=()
for i in $(seq "$COUNT"); do messages+=(--message "line $i"); done
expected_replies=$(for i in $(seq "$COUNT"); do echo "received: line $i"; done)

t0=$(now_us)
"$tcp_echo" client --connect "$tcp_server" "${messages[@]}" >"$work/tcp-direct.out" 2>&1 ||
  fail "tcp-echo without the relay: $(cat "$work/tcp-direct.out")"
tcp_direct_us=$(($(now_us) - t0))

start tcp-relay "$relay" tcp --listen 127.0.0.1:0 --to "$tcp_server" --delay "${DELAY_MS}ms"
tcp_relay_pid=$last_pid
address_of tcp-relay
t0=$(now_us)
"$tcp_echo" client --connect "$addr" "${messages[@]}" >"$work/tcp-relayed.out" 2>&1 ||
  fail "TCP lost something: the tcp-echo client through the relay failed: $(cat "$work/tcp-relayed.out")"
tcp_relayed_us=$(($(now_us) - t0))
wait_until "the relayed connection's end" has "$work/tcp-relay.out" "closed"
stop_relay tcp-relay "$tcp_relay_pid"
tcp_received=$(count "$work/tcp-relayed.out" "received: ")
[ "$(grep -F "received: " "$work/tcp-relayed.out")" = "$expected_replies" ] ||
  fail "TCP lost or reordered something: $tcp_received of $COUNT replies, or not in order"
[ "$tcp_relayed_us" -ge $((COUNT * 2 * delay_us)) ] ||
  fail "tcp-echo: $COUNT round trips took $tcp_relayed_us µs, less than twice the delay each"
tcp_row=$(printf '%-24s %5d %9d %5d %9d %12s %14s' "tcp-echo client/server" \
  "$COUNT" "$tcp_received" $((COUNT - tcp_received)) 0 \
  "$(ms "$tcp_direct_us" "$COUNT")" "$(ms "$tcp_relayed_us" "$COUNT")")

# --- the figures --------------------------------------------------------------------------
udp_lost=$((lost + COUNT - bob_got + bob_sent - alice_got))
udp_sent=$((COUNT + COUNT + bob_sent))
figures=$(
  echo "seed $SEED, loss $LOSS and delay $DELAY_MS ms each way, $COUNT messages per run"
  echo
  printf '%-24s %5s %9s %5s %9s %12s %14s\n' run sent received lost timeouts "round trip" "through relay"
  echo "$udp_bind_row"
  echo "$chat_row_1"
  echo "$chat_row_2"
  echo "$tcp_row"
  echo
  echo "round trip: wall time per message, the client's start-up included"
  echo "$udp_bind_note"
  echo "loss-lab: UDP lost $udp_lost of $udp_sent messages, TCP lost 0 of $COUNT; ok"
)

# Times change from run to run and machine to machine; the counts may not (same seed).
counts_only() { sed -E 's/[0-9]+(\.[0-9]+)? ms/N ms/g'; }
if $update; then
  echo "$figures" >"$EXPECTED"
  echo "loss-lab: wrote $EXPECTED" >&2
elif ! diff <(counts_only <"$EXPECTED") <(echo "$figures" | counts_only) >"$work/diff"; then
  echo "$figures"
  cat "$work/diff" >&2
  fail "the counts differ from $EXPECTED (the book's figures): with the same seed they must not. If a lesson changed on purpose, run bash scripts/loss-lab.sh --update"
fi
echo "$figures"
