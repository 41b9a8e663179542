#!/usr/bin/env bash
# The Chinese edition (中文版) of the book, with the gettext workflow of mdbook-i18n-helpers.
#
#   bash scripts/i18n.sh status     which paragraphs of docs/po/zh-CN.po are missing or stale
#   bash scripts/i18n.sh update     after changing the English: merge the new text into the PO
#                                   file; a changed paragraph keeps its old translation, marked
#                                   fuzzy ("stale") until a translator checks it
#   bash scripts/i18n.sh build      both editions: docs/book (English), docs/book/zh-CN (中文)
#   bash scripts/i18n.sh serve      the Chinese edition at http://localhost:3000, live
#
# Only prose is translated: scripts/i18n_prose_only.py keeps code and program output out of
# the template, so both editions show the same programs and the same output.
# `status --strict` (run by scripts/check-docs.sh) exits 1 when anything is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."

PO=docs/po/zh-CN.po
ZH_TITLE="Rust 套接字编程：一课一个程序"

need_gettext() {
  if ! command -v msgmerge >/dev/null; then
    echo "i18n: installing gettext (msgmerge, msgfmt)"
    if command -v apt-get >/dev/null; then
      (apt-get update -qq && apt-get install -y -qq gettext) >/dev/null
    else
      echo "i18n: please install GNU gettext (brew install gettext / apt-get install gettext)" >&2
      exit 1
    fi
  fi
}

# Writes the template (every English paragraph to translate) to $1.
extract() {
  local out_dir
  out_dir=$(mktemp -d)
  MDBOOK_OUTPUT='{"xgettext": {"pot-file": "messages.pot", "granularity": 0}}' \
    MDBOOK_PREPROCESSOR='{"prose-only": {"command": "python3 ../scripts/i18n_prose_only.py", "before": ["links"]}}' \
    mdbook build docs -d "$out_dir" >"$out_dir.log" 2>&1 || { cat "$out_dir.log" >&2; exit 1; }
  mv "$out_dir/messages.pot" "$1"
  rm -rf "$out_dir" "$out_dir.log"
}

status() {
  local strict=${1:-} pot merged report
  pot=$(mktemp --suffix .pot)
  merged=$(mktemp --suffix .po)
  extract "$pot"
  msgmerge --quiet --no-wrap -o "$merged" "$PO" "$pot"
  # One line per paragraph that needs a translator, with the chapter it is in.
  report=$(python3 - "$merged" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
done = stale = missing = 0
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
for entry in text.split("\n\n"):
    lines = entry.strip().split("\n")
    body = "\n".join(l for l in lines if not l.startswith("#"))
    if not body.startswith("msgid") or "msgstr" not in body:
        continue
    msgid_part, msgstr_part = body.split("\nmsgstr", 1)
    msgid = "".join(QUOTED.findall(msgid_part))
    msgstr = "".join(QUOTED.findall(msgstr_part))
    if not msgid:
        continue  # the header
    where = [l[3:] for l in lines if l.startswith("#: ")]
    flags = " ".join(l for l in lines if l.startswith("#, "))
    place = where[0].split()[0] if where else "?"
    if "fuzzy" in flags:
        stale += 1
        print(f"stale    {place}: {msgid[:90]}")
    elif not msgstr:
        missing += 1
        print(f"missing  {place}: {msgid[:90]}")
    else:
        done += 1
obsolete = len(re.findall(r"^#~ msgid", text, re.M))
print(f"zh-CN: {done} paragraphs translated, {stale} stale, {missing} missing ({obsolete} obsolete kept for reuse)")
EOF
)
  rm -f "$pot" "$merged"
  echo "$report"
  if [ "$strict" = "--strict" ] && ! tail -n 1 <<<"$report" | grep -q ", 0 stale, 0 missing"; then
    echo "i18n: the Chinese edition is behind the English: run 'bash scripts/i18n.sh update'," >&2
    echo "      translate the entries listed above in $PO (remove their 'fuzzy' marks), commit" >&2
    exit 1
  fi
}

case "${1:-status}" in
  status)
    need_gettext
    status "${2:-}"
    ;;
  update)
    need_gettext
    pot=$(mktemp --suffix .pot)
    extract "$pot"
    if [ -f "$PO" ]; then
      msgmerge --quiet --update --backup=off --no-wrap --previous "$PO" "$pot"
    else
      msginit --no-translator --no-wrap -l zh_CN.UTF-8 -i "$pot" -o "$PO"
    fi
    rm -f "$pot"
    status
    ;;
  build)
    mdbook build docs
    MDBOOK_BOOK__LANGUAGE=zh-CN MDBOOK_BOOK__TITLE="$ZH_TITLE" mdbook build docs -d docs/book/zh-CN
    ;;
  serve)
    MDBOOK_BOOK__LANGUAGE=zh-CN MDBOOK_BOOK__TITLE="$ZH_TITLE" mdbook serve docs -d docs/book/zh-CN
    ;;
  *)
    sed -n '2,13p' "$0" >&2
    exit 2
    ;;
esac
