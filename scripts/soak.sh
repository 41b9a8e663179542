#!/usr/bin/env bash
# A bounded soak of the TCP servers. For each: 10,000 short connections and 100 long ones
# open at once, messages of random sizes (1 B – 64 KiB; some pipelined, some written one byte per
# write), every reply checked byte for byte, and on Linux the server's memory watched: at the end
# it must be within twice what it was after a warm-up. Seeded: the same seed makes the same run.
#
#   bash scripts/soak.sh               # debug build, seed 1: what CI runs, before the tests
#   bash scripts/soak.sh --seed 42     # another run, repeatable with the same seed
#   bash scripts/soak.sh --release     # the optimised build
#
# How each protocol is adapted (crates/tools/soak/src/): tcp-echo serves one client at a time, so its
# long connections wait their turn in the listen queue after the short ones; file-downloader
# takes one request per connection, so a short connection downloads a small file (sometimes from
# an offset, its request sometimes sent byte by byte) and a long one a large file (256 KiB –
# 2 MiB) read in pieces of random sizes, with --max-clients 128 so that 100 at once fit.
#
# Loopback only, and bounded: a fixed number of connections, a 30 s timeout on every connect,
# read and write, and a time limit on each server's run (`timeout`, where installed). Prints one
# line per server and a summary line; exits 1 if anything failed. The debug build is what
# `cargo test --workspace --no-run` builds, so that the tests that follow in CI reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug seed=1
while (($#)); do
  case $1 in
    --release) profile=release ;;
    --seed) seed=${2:?--seed needs a number}; shift ;;
    *) echo "usage: $0 [--release] [--seed N]" >&2; exit 2 ;;
  esac
  shift
done

if [[ $profile == release ]]; then
  cargo build --release --quiet -p soak -p tcp-echo -p tcp-threaded -p tcp-nonblocking -p tcp-async -p long-short -p file-downloader
else
  cargo test --workspace --no-run --quiet 2>/dev/null ||
    cargo test --workspace --no-run # again, to show why it failed
fi
target_dir=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="$target_dir/$profile"
exe=""
[[ -x $bin/soak ]] || exe=.exe

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
limit=()
command -v timeout >/dev/null && limit=(timeout 300)

servers=0 connections=0 replies=0 errors=0 failed=()
# soak NAME SOAK-OPTIONS... -- SERVER-ARGUMENTS...: one server's run and its line.
soak() {
  local name=$1 line
  shift
  servers=$((servers + 1))
  if ! line=$("${limit[@]}" "$bin/soak$exe" --seed "$seed" --name "$name" "$@"); then
    failed+=("$name")
  fi
  echo "$line"
  local field
  field=$(sed -n 's/.*: \([0-9]*\) connections (.*/\1/p' <<<"$line")
  connections=$((connections + ${field:-0}))
  field=$(sed -n 's/.*, \([0-9]*\) replies checked, .*/\1/p' <<<"$line")
  replies=$((replies + ${field:-0}))
  field=$(sed -n 's/.* replies checked, \([0-9]*\) errors,.*/\1/p' <<<"$line")
  errors=$((errors + ${field:-0}))
}

listen=(server --listen 127.0.0.1:0)
soak tcp-echo --protocol echo --one-at-a-time -- "$bin/tcp-echo$exe" "${listen[@]}"
soak tcp-threaded --protocol echo -- "$bin/tcp-threaded$exe" "${listen[@]}"
soak tcp-nonblocking --protocol echo -- "$bin/tcp-nonblocking$exe" "${listen[@]}"
soak tcp-async --protocol echo -- "$bin/tcp-async$exe" "${listen[@]}"
soak long-short --protocol echo -- "$bin/long-short$exe" "${listen[@]}"
soak file-downloader --protocol download --root "$root" -- \
  "$bin/file-downloader$exe" "${listen[@]}" --root "$root" --max-clients 128

summary="soak: $servers servers, $connections connections, $replies replies checked, $errors errors"
if ((${#failed[@]})); then
  echo "$summary; failed: ${failed[*]} (repeat with --seed $seed)"
  exit 1
fi
echo "$summary"
