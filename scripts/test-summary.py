#!/usr/bin/env python3
"""Adds up a `cargo test --workspace` log: one line per part of the suite that CI reports on
its own (interoperability, faults, the book's transcripts), then the whole workspace.

Usage: cargo test --workspace 2>&1 | tee LOG; python3 scripts/test-summary.py LOG

A part is a set of test binaries (by file name, e.g. a crate's tests/interop_tools.rs, or a
module of that name inside a lesson's one test binary, e.g. tests/tcp_async/interop_tools.rs) or
of test names. A part that ran no test at all fails the run: a renamed file must not silently
drop a whole part from CI.
"""
import re
import sys

# (what CI prints, how a test belongs to the part: ("binary", name) or ("test", substring))
PARTS = [
    ("interop, Python seeds", ("binary", "interop_python")),
    ("interop, nc and socat", ("binary", "interop_tools")),
    ("faults, property tests", ("test", "properties::prop_")),
    ("faults, misbehaving peers", ("binary", "hostile_peers")),
    ("book, its demos and transcripts", ("binary", "demo")),
    ("book, its other transcripts", ("binary", "book")),
]

RUNNING = re.compile(r"^\s*Running (?:unittests )?(\S+)")
RESULT = re.compile(r"^test (\S+) \.\.\. (ok|FAILED|ignored)")
TOTAL = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = ""
    counts = {label: [0, 0] for label, _ in PARTS}
    passed = failed = 0
    with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
        for line in log:
            if match := RUNNING.match(line):
                binary = match.group(1).rsplit("/", 1)[-1].removesuffix(".rs")
            elif match := RESULT.match(line):
                name, outcome = match.groups()
                if outcome == "ignored":
                    continue
                for label, (kind, key) in PARTS:
                    in_binary = binary == key or name.startswith(key + "::")
                    if (kind == "binary" and in_binary) or (kind == "test" and key in name):
                        counts[label][0 if outcome == "ok" else 1] += 1
            elif match := TOTAL.match(line):
                passed += int(match.group(1))
                failed += int(match.group(2))
    problems = 0
    for label, (ok, bad) in counts.items():
        note = "" if ok + bad else " (no test ran: was a file renamed?)"
        problems += bad + (0 if ok + bad else 1)
        print(f"{label}: {ok} passed, {bad} failed{note}")
    print(f"workspace: {passed} passed, {failed} failed")
    return 1 if problems or failed else 0


if __name__ == "__main__":
    sys.exit(main())
