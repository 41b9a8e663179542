#!/usr/bin/env python3
"""Checks .github/classroom/autograding.json against the workspace: every lesson crate has an
entry, names are unique, and every entry's cargo test command selects at least one test (run
with --list, so nothing is executed). Run after the tests are built (CI runs it after them).
"""
import json
import os
import shlex
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def is_lesson(crate):
    """A lesson's Cargo.toml describes it as "Lesson: …" (common and the tools are not lessons)."""
    manifest = os.path.join(ROOT, "crates", crate, "Cargo.toml")
    if not os.path.isfile(manifest):
        return False
    with open(manifest, encoding="utf-8") as f:
        return 'description = "Lesson:' in f.read()


def main():
    with open(os.path.join(ROOT, ".github/classroom/autograding.json"), encoding="utf-8") as f:
        tests = json.load(f)["tests"]
    problems = []
    names = [t["name"] for t in tests]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"two entries are named {name!r}")

    lessons = sorted(d for d in os.listdir(os.path.join(ROOT, "crates")) if is_lesson(d))
    graded = set()
    for test in tests:
        words = shlex.split(test["run"])
        package = words[3] if len(words) > 3 and words[:3] == ["cargo", "test", "-p"] else None
        if package not in lessons:
            problems.append(f"{test['name']!r}: {test['run']!r} names no lesson crate")
            continue
        graded.add(package)
        listing = words + (["--list"] if "--" in words else ["--", "--list"])
        result = subprocess.run(listing, cwd=ROOT, capture_output=True, text=True)
        found = [line for line in result.stdout.splitlines() if line.endswith(": test")]
        if result.returncode != 0 or not found:
            problems.append(f"{test['name']!r}: {test['run']!r} selects no test\n{result.stderr[-2000:]}")
        else:
            print(f"autograding: {test['name']!r}: {len(found)} test(s), {test['points']} points")
    for lesson in lessons:
        if lesson not in graded:
            problems.append(f"crates/{lesson} has no entry in .github/classroom/autograding.json")
    for problem in problems:
        print(f"autograding: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
