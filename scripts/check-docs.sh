#!/usr/bin/env bash
# Builds the book in English and in Chinese (docs/book/zh-CN) and fails on a missing include
# file or anchor, a chapter missing from SUMMARY.md, an mdBook error, a broken internal link or
# #fragment in either edition, or a Chinese paragraph that is missing or stale.
# Installs mdbook and its plugins (from crates.io, a few minutes on 2 cores) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

MDBOOK_VERSION=0.5.4
if ! command -v mdbook >/dev/null || ! mdbook --version | grep -q "v0\.5\."; then
  echo "check-docs: installing mdbook $MDBOOK_VERSION (cargo install --locked; takes a few minutes)"
  cargo install --locked --quiet mdbook --version "$MDBOOK_VERSION"
fi

I18N_VERSION=0.4.0
if ! command -v mdbook-gettext >/dev/null || ! command -v mdbook-xgettext >/dev/null; then
  echo "check-docs: installing mdbook-i18n-helpers $I18N_VERSION (cargo install --locked; takes a few minutes)"
  cargo install --locked --quiet mdbook-i18n-helpers --version "$I18N_VERSION"
fi

python3 scripts/check_docs.py sources docs

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
echo "check-docs: both editions build, every include, anchor and internal link resolves"
