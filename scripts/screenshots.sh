#!/usr/bin/env bash
# Screenshots of every diagram in the book, as a reader's browser draws it: the book is built
# once per theme (light, and the dark navy and ayu), and headless Chromium takes a picture of
# each diagram's section after mermaid.js has drawn it. Look at them after changing a diagram;
# they are not kept in git. Usage: bash scripts/screenshots.sh [THEME…]  (default: light navy ayu)
# Output: target/screenshots/CHAPTER-N-THEME.png (the Nth diagram of the chapter, 1280 wide).
# The Chinese edition's: BOOK_LANGUAGE=zh-CN bash scripts/screenshots.sh, into CHAPTER-N-THEME-zh-CN.png.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "screenshots: no Chromium found (Debian: apt-get install chromium)" >&2
  exit 1
fi
if [ ! -s docs/mermaid.min.js ]; then
  bash scripts/check-docs.sh # builds the book once, and copies mermaid.min.js into docs/
fi

out=target/screenshots
mkdir -p "$out"
themes=("$@")
[ ${#themes[@]} -gt 0 ] || themes=(light navy ayu)

# Headless Chromium cannot scroll to a #fragment before its screenshot (the picture comes out
# blank), and a page taller than about 14,000 pixels gives no picture at all. So the copy of
# the book made for the screenshots gets this script: with #diagram-N in the address it removes
# everything above the heading of the Nth diagram's section, which then starts the page.
focus='(() => {
    const wanted = /^#diagram-(\d+)$/.exec(window.location.hash);
    const diagram = wanted && document.querySelectorAll("pre.mermaid")[Number(wanted[1]) - 1];
    const main = document.querySelector("main");
    if (!diagram || !main) return;
    let start = diagram;
    while (start.parentElement !== main) start = start.parentElement;
    while (start.previousElementSibling && !/^H[1-6]$/.test(start.tagName)) {
        start = start.previousElementSibling;
    }
    while (start.previousElementSibling) start.previousElementSibling.remove();
})();'

language=${BOOK_LANGUAGE:-en}
suffix=""
title=$(sed -n 's/^title = "\(.*\)"$/\1/p' docs/book.toml)
if [ "$language" != en ]; then
  suffix="-$language"
  title=$(sed -n 's/^ZH_TITLE="\(.*\)"$/\1/p' scripts/i18n.sh) # the Chinese edition's title
fi

for theme in "${themes[@]}"; do
  book="$out/book-$theme$suffix"
  rm -rf "$book"
  # The theme a first-time reader gets; mdBook reads its settings from MDBOOK_* variables too.
  MDBOOK_BOOK__LANGUAGE=$language MDBOOK_BOOK__TITLE=$title \
    MDBOOK_OUTPUT__HTML__DEFAULT_THEME=$theme MDBOOK_OUTPUT__HTML__PREFERRED_DARK_THEME=$theme \
    mdbook build docs --dest-dir "$(pwd)/$book" >/dev/null 2>&1
  printf '%s\n' "$focus" >"$book/focus.js"
  rm -f "$out"/*-"$theme$suffix".png
  for source in docs/src/*.md; do
    count=$(grep -c '^```mermaid' "$source" || true)
    [ "$count" -gt 0 ] || continue
    chapter=$(basename "$source" .md)
    sed -i 's|</body>|<script src="focus.js"></script></body>|' "$book/$chapter.html"
    for n in $(seq 1 "$count"); do
      shot="$out/$chapter-$n-$theme$suffix.png"
      profile=$(mktemp -d)
      # mermaid draws in JavaScript: the virtual time budget lets it finish first.
      "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --hide-scrollbars --user-data-dir="$profile" --virtual-time-budget=10000 \
        --window-size=1280,4500 --screenshot="$shot" \
        "file://$(pwd)/$book/$chapter.html#diagram-$n" >/dev/null 2>&1
      rm -rf "$profile"
      echo "screenshots: $shot"
    done
  done
done
