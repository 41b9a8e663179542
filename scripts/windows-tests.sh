#!/usr/bin/env bash
# The lessons as Windows programs: builds the workspace's tests for x86_64-pc-windows-gnu with
# Debian's mingw-w64 and runs them, and every lesson's demo, under Debian's Wine (wine64).
#
#   bash scripts/windows-tests.sh      # what CI runs; the last line is its summary
#
# Installs what is missing (as root: apt-get install wine64 gcc-mingw-w64-x86-64; rustup's
# Windows target). The Wine prefix lives in target/wine. Debian 12's Wine 8 lacks
# bcryptprimitives.dll, where Rust's std (since 1.78) finds ProcessPrng: scripts/wine/
# bcryptprimitives.c provides it, built here into the prefix.
#
# A test that checks a Windows behaviour Wine does not emulate returns early under Wine only,
# with a `skipped under Wine: WHY` line (test_support::testing::skip_under_wine); the interoperability
# tests skip because python3, nc and socat have no Windows build in the prefix. Both are counted
# as skipped, and listed with their reasons. Exits 1 if a test or a demo fails.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-pc-windows-gnu
WINE=/usr/lib/wine/wine64 # Debian's wine64 package; /usr/bin/wine comes with the wine package

missing=()
[ -x "$WINE" ] || missing+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing ${missing[*]}: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
fi
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"

target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
export WINEPREFIX=$target_dir/wine
export WINEDEBUG=-all            # Wine's own diagnostics, not the tests' output
export WINEDLLOVERRIDES="mscoree,mshtml=" # no .NET or browser engine to offer installing
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  mkdir -p "$target_dir" # a fresh clone has no target/ yet, and Wine will not create it
  # A 64-bit-only Wine says it cannot start syswow64's rundll32: harmless.
  "$WINE" wineboot --init >"$target_dir/wineboot.log" 2>&1 || true
  "${WINE%wine64}wineserver" -w # the registry files are written when the server stops
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    cat "$target_dir/wineboot.log" >&2
    echo "error: wineboot did not create $WINEPREFIX" >&2
    exit 1
  fi
fi
dll=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
if [ ! -f "$dll" ] || [ scripts/wine/bcryptprimitives.c -nt "$dll" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -s -Wall -Wextra -Werror \
    -o "$dll" scripts/wine/bcryptprimitives.c -lbcrypt
fi

# One wineserver for the whole run instead of one per test binary; stopped at the end.
"${WINE%wine64}wineserver" -p >/dev/null 2>&1 # what it prints when stopped is no test's output
trap '"${WINE%wine64}wineserver" -k 2>/dev/null || true' EXIT

export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$WINE
# The interoperability tools cannot be found from inside Wine: skip, do not fail, those tests.
unset SOCKETS_REQUIRE_TOOLS

echo "building the tests for $TARGET"
cargo test --workspace --target "$TARGET" --no-run --quiet

# Every lesson's demo, found by its binary's help: each must exit 0 within two minutes.
demos_ran=0 demos_failed=0
exe_dir=$target_dir/$TARGET/debug
for manifest in crates/lessons/*/Cargo.toml; do
  exe=$exe_dir/$(basename "$(dirname "$manifest")").exe
  [ -f "$exe" ] || continue
  help=$("$WINE" "$exe" --help 2>/dev/null || true)
  grep -qE '^  demo ' <<<"$help" || continue
  demos_ran=$((demos_ran + 1))
  name=$(basename "$exe" .exe)
  if timeout 120 "$WINE" "$exe" demo >"$target_dir/wine-demo-$name.log" 2>&1; then
    echo "demo under Wine: $name ok ($(wc -l <"$target_dir/wine-demo-$name.log") lines)"
  else
    echo "demo under Wine: $name FAILED (exit $?):"
    tail -n 20 "$target_dir/wine-demo-$name.log"
    demos_failed=$((demos_failed + 1))
  fi
done

if [ "$demos_ran" -eq 0 ]; then
  echo "demo under Wine: no lesson's --help lists a demo (do the programs start at all?)"
  demos_failed=1
fi

log=$target_dir/wine-tests.log
status=0
# --show-output prints what each passing test printed: the skip notices counted below.
cargo test --workspace --target "$TARGET" --no-fail-fast -- --show-output >"$log" 2>&1 ||
  status=$?
if [ "$status" -ne 0 ]; then
  # What failed and why, on stderr (CI's log); the whole log stays in target/wine-tests.log.
  sed -n '/^failures:$/,/^test result:/p' "$log" | head -n 400 >&2 || true
  grep -E '^error' "$log" >&2 || true
  # A test program that Wine ended with a signal (seen: SIGSEGV at exit, after every test in it
  # had passed) is run once more; a failed assertion is never retried. If every failure was
  # such a crash and each rerun passes, the step passes, and says which were rerun.
  crashed=$(python3 - "$log" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
failures = re.findall(r"error: test failed, to rerun pass `([^`]*)`\n\nCaused by:\n\s*process didn't exit successfully: `[^`]*` \(([^)]*)\)", text)
every = re.findall(r"error: test failed, to rerun pass `([^`]*)`", text)
if failures and len(failures) == len(every) and all(why.startswith("signal:") for _, why in failures):
    print("\n".join(args for args, _ in failures))
PY
)
  if [ -n "$crashed" ]; then
    status=0
    while IFS= read -r args; do
      # shellcheck disable=SC2086 # the arguments are cargo's own, e.g. -p long-short --test long_short
      if cargo test $args --target "$TARGET" >>"$target_dir/wine-reruns.log" 2>&1; then
        echo "windows (wine): $args crashed under Wine after its tests ran; run again: ok" >&2
      else
        echo "windows (wine): $args crashed under Wine, and failed when run again" >&2
        status=1
      fi
    done <<<"$crashed"
  fi
fi
python3 scripts/wine/test-summary.py "$log" "$demos_failed" || status=1
exit "$status"
