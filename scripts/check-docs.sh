#!/usr/bin/env bash
# Builds the book in English and in Chinese (docs/book/zh-CN) and fails on a missing include
# file or anchor, a chapter missing from SUMMARY.md, an mdBook error, a broken internal link or
# #fragment in either edition, a block of program output that no test checks, or a Chinese
# paragraph that is missing or stale.
# Also checks that tour.sh, the lesson plans and the glossary links follow the book's lessons.
# Installs mdbook and its plugins (from crates.io, a few minutes each on 2 cores) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# install_tool CRATE VERSION: from crates.io, pinned (--force replaces another version). The three tools share most of their
# dependencies: one build directory (target/book-tools) compiles those once, not three times.
install_tool() {
  echo "check-docs: installing $1 $2 (cargo install --locked; takes a few minutes)"
  cargo install --locked --force --quiet --target-dir target/book-tools "$1" --version "$2"
}

MDBOOK_VERSION=0.5.4
if ! command -v mdbook >/dev/null || ! mdbook --version | grep -q "v0\.5\."; then
  install_tool mdbook "$MDBOOK_VERSION"
fi
MDBOOK_MERMAID_VERSION=0.17.1
if ! command -v mdbook-mermaid >/dev/null ||
  ! mdbook-mermaid --version | grep -qF "$MDBOOK_MERMAID_VERSION"; then
  install_tool mdbook-mermaid "$MDBOOK_MERMAID_VERSION"
fi
# mermaid.min.js (2.7 MB of minified third-party code) is not kept in git: the pinned
# mdbook-mermaid carries the copy that matches its preprocessor. `mdbook-mermaid install` writes
# it, and its own mermaid-init.js, which would replace the book's docs/mermaid-init.js; so it
# writes into a scratch book, from where only mermaid.min.js is copied.
scratch=$(mktemp -d)
printf '[book]\ntitle = "scratch"\n' >"$scratch/book.toml"
if ! out=$(mdbook-mermaid install "$scratch" 2>&1) || [ ! -s "$scratch/mermaid.min.js" ]; then
  echo "$out" >&2
  echo "check-docs: mdbook-mermaid could not write mermaid.min.js" >&2
  exit 1
fi
cp "$scratch/mermaid.min.js" docs/mermaid.min.js
rm -rf "$scratch"

I18N_VERSION=0.4.0
if ! command -v mdbook-gettext >/dev/null || ! command -v mdbook-xgettext >/dev/null; then
  install_tool mdbook-i18n-helpers "$I18N_VERSION"
fi

python3 scripts/check_docs.py sources docs
python3 scripts/check_course.py .

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! bash scripts/i18n.sh build >"$log" 2>&1; then
  cat "$log" >&2
  echo "check-docs: mdbook build failed" >&2
  exit 1
fi
if grep -E "ERROR|WARN" "$log" >&2; then
  echo "check-docs: mdbook reported problems (above)" >&2
  exit 1
fi

python3 scripts/check_docs.py html docs
bash scripts/i18n.sh status --strict | tail -n 40
echo "check-docs: both editions build, every include, anchor and internal link resolves, and no block shows output that no test checks"
