#!/usr/bin/env python3
"""Checks the book: every included file and anchor exists, every chapter is in SUMMARY.md,
no chapter shows program output that no test checks, and every internal link and #fragment in
the built HTML points at something that exists.

Every heading below the title carries an explicit id (`## The steps {#the-steps}`): the Chinese
edition translates the heading's text, and without it the heading's id, and so every link to
it, would change.

Usage: check_docs.py sources DOCS_DIR   (before building)
       check_docs.py html DOCS_DIR      (after `mdbook build`)
       check_docs.py fix-ids DOCS_DIR   (adds the id mdBook would make to each heading lacking one)
Exits 1 and lists every problem found.
"""
import html.parser
import os
import re
import sys
import unicodedata
from urllib.parse import unquote, urlsplit

INCLUDE = re.compile(r"\{\{#(include|rustdoc_include)\s+([^}\s]+)\s*\}\}")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")

# Output in the book comes from running the code, checked by the tests (STYLE.md). A block that
# shows what a program prints must be a transcript the tests compare with a real run: a file
# under crates/lessons/<lesson>/tests/transcripts/, pulled in with {{#include}}. So a fenced block that is
# not code (```text, ```console, ``` …) fails the check when one of its own lines starts like a
# line our programs print (below). Lines that an {{#include}} brings in are not seen here, which
# is the point. Commands, step lists and diagrams start otherwise and pass. Figures measured once
# on one machine (a benchmark's table) cannot be checked by a test: mark such a block
# ```text,measured and say in the text that they are measured.
FENCE = re.compile(r"^\s*(```+|~~~+)\s*([^\s`]*)")
PROSE_BLOCKS = ("", "text", "txt", "console", "shell-session", "output", "plain")
OUTPUT_PREFIXES = (
    "[server] ", "[client] ", "[alice] ", "[bob] ", "[carol] ",
    "listening on ", "bound to ", "connecting to ", "connection from ",
    "received", "sent:", "sent to ", "served ", "stopping:", "closed ",
    "error:", "warning:", "trace: ", "usage:", "Usage:",
    "mode=", "TIME_WAIT after", "datagram cut", "downloaded ", "saved ", "peer: ",
)


# A diagram's labels are plain text, so that a translator can translate the block as one
# message: no HTML (mermaid would take <br> as a line break, a translator would not know), and
# no ";" or "#" in labels, which mermaid reads as the end of a statement and an entity.
MERMAID_MARKUP = re.compile(r"<[a-zA-Z/]|&[a-z#0-9]+;|;|#")


def mermaid_labels(rel, body, first_line, md_dir):
    problems = []
    for offset, line in enumerate(body):
        where = f"{rel}:{first_line + offset}"
        included = INCLUDE.fullmatch(line.strip())
        if included:
            path = os.path.normpath(os.path.join(md_dir, included.group(2).partition(":")[0]))
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    problems += mermaid_labels(f"{where} ({os.path.basename(path)})", f.read().split("\n"), 1, md_dir)
            continue
        if line.lstrip().startswith("%%"):
            continue
        if MERMAID_MARKUP.search(line):
            problems.append(f"{where}: a diagram label with markup or ; or # (keep labels plain text): "
                            f"{line.strip()[:60]}")
    return problems


def fenced_blocks(lines):
    """(index of the opening line, index of the closing line, info string) of each fenced block."""
    blocks, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, info = opening.groups()
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        blocks.append((i, end, info))
        i = end + 1
    return blocks


def unchecked_output(rel, text, md_dir):
    """Problems for each fenced non-code block that shows program output not from a transcript."""
    problems = []
    lines = text.split("\n")
    for i, end, info in fenced_blocks(lines):
        language, *attributes = info.split(",")
        if language == "mermaid":
            problems += mermaid_labels(rel, lines[i + 1:end], i + 2, md_dir)
        if language in PROSE_BLOCKS and "measured" not in attributes:
            for number in range(i + 1, end):
                line = lines[number].strip()
                if line.startswith(OUTPUT_PREFIXES):
                    problems.append(
                        f"{rel}:{number + 1}: `{line[:60]}` looks like program output that no test checks: "
                        "make it a transcript in crates/lessons/<lesson>/tests/transcripts/ that a test compares with "
                        "a real run, and {{#include}} it (or mark measured figures ```text,measured)"
                    )
                    break
    return problems


def check_sources(docs):
    problems = []
    src = os.path.join(docs, "src")
    with open(os.path.join(src, "SUMMARY.md"), encoding="utf-8") as f:
        summary = f.read()
    listed = set(LINK.findall(summary))
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(".md"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            if rel != "SUMMARY.md" and rel not in listed:
                problems.append(f"{rel}: not listed in SUMMARY.md, so the book leaves it out")
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for kind, spec in INCLUDE.findall(text):
                problems += check_include(path, rel, kind, spec)
            for target in LINK.findall(text):
                problems += check_link(path, rel, target)
            for number, _, heading, explicit in headings(text):
                if explicit is None:
                    problems.append(
                        f"{rel}:{number}: heading '{heading}' has no {{#id}}, so the Chinese edition would "
                        "change its id (check_docs.py fix-ids docs adds one)")
            problems += unchecked_output(rel, text, os.path.dirname(path))
    return problems


HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+\{#([^}\s]+)\})?[ \t]*$")


def headings(text):
    """(line number, level, text, explicit id or None) of each heading below the title."""
    lines = text.split("\n")
    in_blocks = {n for start, end, _ in fenced_blocks(lines) for n in range(start, end + 1)}
    found = []
    for index, line in enumerate(lines):
        match = None if index in in_blocks else HEADING.match(line)
        if match and len(match.group(1)) >= 2:
            found.append((index + 1, len(match.group(1)), match.group(2), match.group(3)))
    return found


def id_from_content(heading):
    """The id mdBook 0.5 gives a heading (mdbook-html's id_from_content), from its Markdown."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]*>", "", text).replace("`", "")
    text = re.sub(r"(\*\*|__|\*|\b_|_\b)", "", text)
    out = []
    for ch in text.strip().lower():
        if ch.isalnum() or unicodedata.category(ch).startswith("N") or ch in "_-":
            out.append(ch)
        elif ch.isspace():
            out.append("-")
    return "".join(out)


def fix_ids(docs):
    src = os.path.join(docs, "src")
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(".md") or name == "SUMMARY.md":
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            used = set()
            title = next((l for l in lines if l.startswith("# ")), None)
            if title:
                used.add(id_from_content(title[2:]))
            changed = 0
            for number, _, heading, explicit in headings("\n".join(lines)):
                ident = explicit or id_from_content(heading)
                base, counter = ident, 0
                while explicit is None and ident in used:
                    counter += 1
                    ident = f"{base}-{counter}"
                used.add(ident)
                if explicit is None:
                    lines[number - 1] = lines[number - 1].rstrip() + f" {{#{ident}}}"
                    changed += 1
            if changed:
                with open(path, "w", encoding="utf-8") as f:
                    f.write("\n".join(lines))
                print(f"{os.path.relpath(path, src)}: {changed} heading ids added")


def check_include(md_path, rel, kind, spec):
    file_part, _, selector = spec.partition(":")
    target = os.path.normpath(os.path.join(os.path.dirname(md_path), file_part))
    if not os.path.isfile(target):
        return [f"{rel}: {{{{#{kind} {spec}}}}}: no file {file_part}"]
    if not selector:
        return []
    if re.fullmatch(r"[0-9:]*", selector):
        return [f"{rel}: {{{{#{kind} {spec}}}}}: use a named anchor, not line numbers, so the book cannot drift"]
    with open(target, encoding="utf-8") as f:
        code = f.read()
    missing = [m for m in (f"ANCHOR: {selector}", f"ANCHOR_END: {selector}") if not re.search(re.escape(m) + r"\b", code)]
    if missing:
        return [f"{rel}: {{{{#{kind} {spec}}}}}: {file_part} has no {' or '.join(missing)}"]
    return []


def check_link(md_path, rel, target):
    parts = urlsplit(target)
    if parts.scheme or target.startswith("#"):
        return []
    path = unquote(parts.path)
    resolved = os.path.normpath(os.path.join(os.path.dirname(md_path), path))
    if not os.path.exists(resolved):
        return [f"{rel}: broken link ({target}): no {path}"]
    return []


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def check_html(docs):
    book = os.path.join(docs, "book")
    pages = {}
    for root, _, files in os.walk(book):
        for name in files:
            if name.endswith(".html"):
                path = os.path.join(root, name)
                page = Page()
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                page.feed(text)
                pages[os.path.normpath(path)] = (page, text)
    problems = []
    for path, (page, text) in sorted(pages.items()):
        rel = os.path.relpath(path, book)
        if rel in ("404.html", "print.html", "toc.html"):
            continue
        if "{{#" in text:
            problems.append(f"{rel}: an mdBook directive was left unexpanded")
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme or href.startswith("//"):
                continue
            target = path if not parts.path else os.path.normpath(os.path.join(os.path.dirname(path), unquote(parts.path)))
            if os.path.isdir(target):
                target = os.path.join(target, "index.html")
            if not os.path.exists(target):
                problems.append(f"{rel}: broken link {href}")
                continue
            if parts.fragment and target in pages and unquote(parts.fragment) not in pages[target][0].ids:
                problems.append(f"{rel}: link {href}: no #{parts.fragment} on that page")
    return problems


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("sources", "html", "fix-ids"):
        print(__doc__, file=sys.stderr)
        return 2
    docs = sys.argv[2]
    if sys.argv[1] == "fix-ids":
        fix_ids(docs)
        return 0
    problems = check_sources(docs) if sys.argv[1] == "sources" else check_html(docs)
    for problem in problems:
        print(f"docs: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
