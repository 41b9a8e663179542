#!/usr/bin/env bash
# Checks the exercises' model solutions in solutions/ (see solutions/README.md). For every
# solutions/<lesson>/exercise-N.patch, in a throwaway copy of this repository (never in it):
#   1. the patch applies (`git apply`);
#   2. the exercise's check passes: cargo test -p <lesson> --test exercises exercise_N -- --ignored
#   3. the lesson's own tests still pass: cargo test -p <lesson>
#   4. clippy -D warnings, rustfmt and the book's includes and anchors are still happy.
# Also: every #[ignore]d exercise check has a patch, and every lesson with checks a <lesson>.md.
#
# Usage: bash scripts/check-solutions.sh                all of the above (about a minute: it
#                                                       builds and tests)
#        bash scripts/check-solutions.sh --apply-only   only `git apply --check` (about a second),
#                                                       to notice a lesson change that made a
#                                                       solution stale
#        bash scripts/check-solutions.sh PATCH...       only these patches
# Prints one line per patch and ends with `solutions: N patches apply and pass their checks`;
# exits 1 if any does not. Without a solutions/ folder (an instructor withheld it), there is
# nothing to check: it says so and exits 0.
# The copy and its build live in $SOLUTIONS_TARGET_DIR (default: target/check-solutions, or
# $CARGO_TARGET_DIR/check-solutions), so that later runs reuse the compiled dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

mode=full
patches=()
for arg in "$@"; do
  case $arg in
    --apply-only) mode=apply ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "check-solutions: unknown option $arg (see --help)" >&2; exit 2 ;;
    *) patches+=("$arg") ;;
  esac
done

if [ ! -d solutions ]; then
  echo "solutions: no solutions/ folder here (withheld by the instructor?): nothing to check"
  exit 0
fi

problems=0
problem() { echo "FAIL $*"; problems=$((problems + 1)); }

# Every #[ignore]d check has its patch, and every lesson with checks its answers page.
for checks in crates/lessons/*/tests/exercises.rs; do
  lesson=$(basename "$(dirname "$(dirname "$checks")")")
  [ -f "solutions/$lesson.md" ] || problem "solutions/$lesson.md: missing (answers for the $lesson chapter)"
  while read -r number; do
    [ -f "solutions/$lesson/exercise-$number.patch" ] ||
      problem "solutions/$lesson/exercise-$number.patch: missing ($checks has exercise_${number}_…)"
  done < <(grep -o 'fn exercise_[0-9]*_' "$checks" | grep -o '[0-9][0-9]*' | sort -un)
done

if [ ${#patches[@]} -eq 0 ]; then
  shopt -s nullglob
  patches=(solutions/*/exercise-*.patch)
  shopt -u nullglob
fi

# The lesson and the exercise number a patch is for: solutions/<lesson>/exercise-<N>.patch.
parse() {
  local patch=$1 file
  file=$(basename "$patch")
  lesson=$(basename "$(dirname "$patch")")
  number=${file#exercise-}
  number=${number%.patch}
  case $number in
    '' | *[!0-9]*) return 1 ;;
  esac
  [ -f "crates/lessons/$lesson/tests/exercises.rs" ] || return 1
}

if [ "$mode" = apply ]; then
  passed=0
  for patch in "${patches[@]}"; do
    if ! parse "$patch"; then
      problem "$patch: not named solutions/<lesson>/exercise-N.patch for a lesson with checks"
    elif ! grep -q "fn exercise_${number}_" "crates/lessons/$lesson/tests/exercises.rs"; then
      problem "$patch: crates/lessons/$lesson/tests/exercises.rs has no exercise_${number}_… check"
    elif ! output=$(git apply --check "$patch" 2>&1); then
      problem "$patch: does not apply to the lessons as they are now:"
      echo "    ${output//$'\n'/$'\n'    }"
    else
      echo "ok   $patch applies"
      passed=$((passed + 1))
    fi
  done
  if [ "$problems" -gt 0 ]; then
    echo "solutions: $problems problem(s); $passed of ${#patches[@]} patches apply"
    exit 1
  fi
  echo "solutions: $passed patches apply (--apply-only: not built or tested)"
  exit 0
fi

# Full mode. One copy of the working tree (tracked and untracked files, not what git ignores),
# made afresh for every patch. Files get the time of copying, so that cargo rebuilds whatever
# an earlier patch changed. GIT_CEILING_DIRECTORIES keeps `git apply` from finding this
# repository above the copy (the default place is inside target/) and skipping its paths.
work=${SOLUTIONS_TARGET_DIR:-${CARGO_TARGET_DIR:-$repo/target}/check-solutions}
mkdir -p "$work"
work=$(cd "$work" && pwd)
tree=$work/tree
export CARGO_TARGET_DIR=$work/build
export GIT_CEILING_DIRECTORIES=$work
log=$work/log
python=$(command -v python3 || true)

fresh_copy() {
  rm -rf "$tree"
  mkdir -p "$tree"
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do
      # Deleted but not yet committed: nothing to copy.
      [ -e "$file" ] && printf '%s\0' "$file"
    done |
    tar --null -T - -cf - | tar -xmf - -C "$tree"
}

# Runs a step in the copy, its output in $log; on failure, says which step and shows the end.
step() {
  local what=$1
  shift
  if ! (cd "$tree" && "$@") >"$log" 2>&1; then
    problem "$patch: $what failed: $*"
    tail -n 30 "$log" | sed 's/^/    /'
    return 1
  fi
}

# "N passed" summed over every `test result:` line of the last step.
passed_tests() {
  awk '/^test result:/ { n += $4 } END { print n + 0 }' "$log"
}

passed=0
for patch in "${patches[@]}"; do
  started=$SECONDS
  if ! parse "$patch"; then
    problem "$patch: not named solutions/<lesson>/exercise-N.patch for a lesson with checks"
    continue
  fi
  fresh_copy
  step "git apply" git apply "$repo/$patch" || continue
  step "the exercise's check" \
    cargo test -q -p "$lesson" --test exercises "exercise_${number}_" -- --ignored || continue
  checks=$(passed_tests)
  if [ "$checks" -eq 0 ]; then
    problem "$patch: no test named exercise_${number}_… ran in crates/lessons/$lesson/tests/exercises.rs"
    continue
  fi
  step "the lesson's tests" cargo test -q -p "$lesson" || continue
  tests=$(passed_tests)
  step "clippy" cargo clippy -q -p "$lesson" --all-targets -- -D warnings || continue
  step "rustfmt" cargo fmt --all --check || continue
  if [ -n "$python" ]; then
    step "the book's includes and anchors" "$python" scripts/check_docs.py sources docs || continue
  fi
  echo "ok   $patch: exercise_${number} passes ($checks check), and $lesson's $tests tests, clippy, rustfmt and the book's anchors ($((SECONDS - started)) s)"
  passed=$((passed + 1))
done
rm -rf "$tree"

if [ "$problems" -gt 0 ]; then
  echo "solutions: $problems problem(s); $passed of ${#patches[@]} patches apply and pass their checks"
  exit 1
fi
echo "solutions: $passed patches apply and pass their checks"
