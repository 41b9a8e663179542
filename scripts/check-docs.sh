#!/usr/bin/env bash
# Builds the book and fails on a missing include file or anchor, a chapter missing from
# SUMMARY.md, an mdBook error, or a broken internal link or #fragment.
# Also checks that tour.sh, the lesson plans and the glossary links follow the book's lessons.
# Installs mdbook (from crates.io, a few minutes on 2 cores) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

MDBOOK_VERSION=0.5.4
if ! command -v mdbook >/dev/null || ! mdbook --version | grep -q "v0\.5\."; then
  echo "check-docs: installing mdbook $MDBOOK_VERSION (cargo install --locked; takes a few minutes)"
  cargo install --locked --quiet mdbook --version "$MDBOOK_VERSION"
fi

python3 scripts/check_docs.py sources docs
python3 scripts/check_course.py .

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! mdbook build docs >"$log" 2>&1; then
  cat "$log" >&2
  echo "check-docs: mdbook build failed" >&2
  exit 1
fi
if grep -E "ERROR|WARN" "$log" >&2; then
  echo "check-docs: mdbook reported problems (above)" >&2
  exit 1
fi

python3 scripts/check_docs.py html docs
echo "check-docs: the book builds, every include, anchor and internal link resolves"
