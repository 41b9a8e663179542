#!/usr/bin/env python3
"""Adds up the log of `cargo test --workspace --target x86_64-pc-windows-gnu -- --show-output`
run under Wine (scripts/windows-tests.sh): lists each skipped test with its reason, then prints
one summary line, last. A test counts as skipped when what it printed has a
`skipped under Wine: WHY` line (a Windows behaviour Wine lacks) or a `skipped: WHY` line (a
program the interoperability tests drive is not there); it passed, but checked nothing.

Usage: python3 scripts/wine/test-summary.py LOG DEMOS_FAILED
"""
import re
import sys

RUNNING = re.compile(r"^\s*Running (?:unittests )?\S+ \((\S+)\)")
RESULT = re.compile(r"^test (\S+) \.\.\. (ok|FAILED|ignored)")
TOTAL = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed")
OUTPUT = re.compile(r"^---- (\S+) stdout ----$")
SKIP = re.compile(r"^skipped(?: under Wine)?: ")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary = test = ""
    skipped = {}  # (binary, test) -> reason
    passed = failed = 0
    with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
        for line in log:
            line = line.rstrip("\r\n")
            if match := RUNNING.match(line):
                # target/…/deps/udp_bind-0123abcd.exe -> udp_bind
                binary = re.sub(r"-[0-9a-f]+\.exe$", "", re.split(r"[\\/]", match.group(1))[-1])
                test = ""
            elif match := OUTPUT.match(line):
                test = match.group(1)
            elif RESULT.match(line) or line in ("successes:", "failures:"):
                test = ""
            elif test and SKIP.match(line):
                skipped.setdefault((binary, test), line)
            elif match := TOTAL.match(line):
                passed += int(match.group(1))
                failed += int(match.group(2))
    wine = sorted(k for k, why in skipped.items() if why.startswith("skipped under Wine"))
    for binary, test in wine:
        print(f"{binary} {test}: {skipped[(binary, test)]}")
    tools = {}
    for key, why in skipped.items():
        if not why.startswith("skipped under Wine"):
            tools[why] = tools.get(why, 0) + 1
    for why, count in sorted(tools.items()):
        print(f"{count} test(s): {why}")
    demos_failed = int(sys.argv[2])
    if demos_failed:
        print(f"{demos_failed} demo(s) failed under Wine")
    ran = passed + failed
    print(f"windows (wine), the lessons' tests: {passed - len(skipped)} passed, {failed} failed, "
          f"{len(skipped)} skipped")
    return 1 if failed or demos_failed or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
