#!/usr/bin/env python3
"""An mdBook preprocessor used only while extracting the text to translate (scripts/i18n.sh):
it removes the code and program output from every chapter, so that the Chinese edition's
translators see prose, tables, diagrams and exercises, and never a Rust comment or a line the
programs print. Code and output stay exactly as they are in every edition.

Removed: fenced blocks in rust, python, toml, json or sh, and any fenced block whose body is only
`{{#include ...}}` lines (transcripts and code come from the crates, checked by the tests). Kept:
mermaid diagrams (included or not), text diagrams and the "terminal 1 / terminal 2" command blocks, whose labels
and comments are translated.

It runs before mdBook's `links` preprocessor, so includes are still visible as includes.
"""
import json
import re
import sys

CODE_LANGUAGES = {"rust", "python", "toml", "json", "sh", "console", "powershell"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$")
INCLUDE_ONLY = re.compile(r"^\s*\{\{#(include|rustdoc_include)[^}]*\}\}\s*$")


def strip_code(markdown: str) -> str:
    out, block, opener = [], None, None
    for line in markdown.split("\n"):
        if block is None:
            match = FENCE.match(line)
            if match:
                block, opener = [line], match
            else:
                out.append(line)
            continue
        block.append(line)
        stripped = line.strip()
        fence = opener.group("fence")
        if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
            language = opener.group("info").strip().split(",")[0].split(" ")[0]
            body = [l for l in block[1:-1] if l.strip()]
            included = body and all(INCLUDE_ONLY.match(l) for l in body)
            if language in CODE_LANGUAGES or (included and language != "mermaid"):
                out.append("")
            else:
                out.extend(block)
            block = None
    if block is not None:
        out.extend(block)
    return "\n".join(out)


def walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "content" and isinstance(value, str):
                node[key] = strip_code(value)
            else:
                walk(value)
    elif isinstance(node, list):
        for item in node:
            walk(item)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "supports":
        sys.exit(0)
    _context, book = json.load(sys.stdin)
    walk(book)
    json.dump(book, sys.stdout)


if __name__ == "__main__":
    main()
