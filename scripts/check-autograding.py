#!/usr/bin/env python3
"""GitHub Classroom autograding: .github/classroom/tests.json lists the graded tests, and
.github/workflows/classroom.yml, which runs them, is made from it by this script.

  python3 scripts/check-autograding.py --write      write classroom.yml from tests.json
  python3 scripts/check-autograding.py --workflow   check that classroom.yml is what --write
                                                    writes (no cargo; .ci/run's lint step)
  python3 scripts/check-autograding.py              that, and: every lesson crate has an entry,
                                                    and every entry's command selects at least
                                                    one test (run with --list: nothing runs)

The workflow has the form GitHub Classroom writes itself: one autograding-command-grader step
per test, then the autograding-grading-reporter, which adds up the points for Classroom.
"""
import difflib
import json
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SPEC = ".github/classroom/tests.json"
WORKFLOW = ".github/workflows/classroom.yml"
GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
# A cold build of every lesson and its tests; the graders' own timeouts then only time tests.
BUILD_TIMEOUT = 30


def is_lesson(crate):
    """A lesson's Cargo.toml describes it as "Lesson: …" (common and the tools are not lessons)."""
    manifest = os.path.join(ROOT, "crates", "lessons", crate, "Cargo.toml")
    if not os.path.isfile(manifest):
        return False
    with open(manifest, encoding="utf-8") as f:
        return 'description = "Lesson:' in f.read()


def package_of(command):
    """The crate a `cargo test -p CRATE …` command tests, or None."""
    words = shlex.split(command)
    return words[3] if len(words) > 3 and words[:3] == ["cargo", "test", "-p"] else None


def load_spec():
    with open(os.path.join(ROOT, SPEC), encoding="utf-8") as f:
        return json.load(f)


def quoted(text):
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(text, ensure_ascii=False)


def workflow(spec):
    """The text of classroom.yml for this spec."""
    tests = spec["tests"]
    packages = list(dict.fromkeys(package_of(t["run"]) for t in tests))
    out = [
        "# GitHub Classroom autograding, in the form Classroom writes itself: one",
        "# autograding-command-grader step per graded test, then the grading reporter, which adds",
        "# up the points and writes them where Classroom reads them.",
        "#",
        f"# Made from {SPEC} by scripts/check-autograding.py --write: edit that",
        "# file, then run the script. bash .ci/run fails when the two disagree.",
        "name: Autograding Tests",
        "",
        '"on":',
        "  push:",
        "  workflow_dispatch:",
        "  repository_dispatch:",
        "",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "",
        "jobs:",
        "  # The reporter writes the points into the check run of the job with this id.",
        "  run-autograding-tests:",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
        "    steps:",
        "      - name: Checkout code",
        "        uses: actions/checkout@v5",
        "      # The job fails until every test passes: save the compiled dependencies anyway.",
        "      - uses: Swatinem/rust-cache@v2",
        "        with:",
        "          cache-on-failure: true",
        "      # Builds every graded crate's tests once, so that the graded steps below compile",
        "      # nothing and their timeouts time the tests alone. It is a grader step itself",
        "      # (left out of the reporter's runners, so it scores nothing) because graders run",
        "      # commands with only PATH and HOME from the job's environment: after a build in a",
        "      # `run` step, where rust-cache sets CARGO_INCREMENTAL=0, the graded steps would",
        "      # compile the lesson crates again.",
        "      # One cargo command per crate, as the graders select them: `cargo test -p A -p B`",
        "      # would resolve the dependencies' features differently and build other artifacts.",
        "      - name: Build the lessons and their tests (not graded)",
        "        id: build",
        f"        uses: {GRADER}",
        "        with:",
        "          test-name: Build the lessons and their tests",
        "          command: |",
        *(f"            cargo test -p {p} --no-run" for p in packages),
        f"          timeout: {BUILD_TIMEOUT}",
    ]
    for test in tests:
        out += [
            f"      - name: {quoted(test['name'])}",
            f"        id: {test['id']}",
            f"        uses: {GRADER}",
            "        with:",
            f"          test-name: {quoted(test['name'])}",
            f"          command: {quoted(test['run'])}",
            f"          timeout: {test.get('timeout', spec['timeout'])}",
            f"          max-score: {test['points']}",
        ]
    out += [
        "      - name: Autograding Reporter",
        f"        uses: {REPORTER}",
        "        env:",
        *(
            f"          {t['id'].upper()}_RESULTS: \"${{{{ steps.{t['id']}.outputs.result }}}}\""
            for t in tests
        ),
        "        with:",
        f"          runners: {','.join(t['id'] for t in tests)}",
    ]
    return "\n".join(out) + "\n"


def spec_problems(spec):
    """What the schema cannot say: unique ids and names, commands that test a lesson crate."""
    problems = []
    lessons = sorted(d for d in os.listdir(os.path.join(ROOT, "crates", "lessons")) if is_lesson(d))
    for key in ("id", "name"):
        values = [t[key] for t in spec["tests"]]
        for value in sorted({v for v in values if values.count(v) > 1}):
            problems.append(f"two entries have the {key} {value!r}")
    for test in spec["tests"]:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", test["id"]) or test["id"] == "build":
            problems.append(
                f"{test['name']!r}: id {test['id']!r} must be lower-case letters, digits and -,"
                " and not build (the build step's)"
            )
        if package_of(test["run"]) not in lessons:
            problems.append(f"{test['name']!r}: {test['run']!r} names no lesson crate")
    graded = {package_of(t["run"]) for t in spec["tests"]}
    for lesson in lessons:
        if lesson not in graded:
            problems.append(f"crates/lessons/{lesson} has no entry in {SPEC}")
    return problems


def workflow_problems(spec):
    """An empty list when classroom.yml is what --write would write, else the difference."""
    wanted = workflow(spec)
    path = os.path.join(ROOT, WORKFLOW)
    have = open(path, encoding="utf-8").read() if os.path.isfile(path) else ""
    if have == wanted:
        return []
    diff = "".join(
        difflib.unified_diff(
            have.splitlines(True), wanted.splitlines(True), WORKFLOW, f"{WORKFLOW} from {SPEC}"
        )
    )
    return [
        f"{WORKFLOW} is not what {SPEC} makes: run python3 scripts/check-autograding.py --write\n{diff}"
    ]


def selection_problems(spec):
    """Runs each entry's command with --list: it must select at least one test."""
    problems = []
    for test in spec["tests"]:
        words = shlex.split(test["run"])
        listing = words + (["--list"] if "--" in words else ["--", "--list"])
        result = subprocess.run(listing, cwd=ROOT, capture_output=True, text=True)
        found = [line for line in result.stdout.splitlines() if line.endswith(": test")]
        if result.returncode != 0 or not found:
            problems.append(f"{test['name']!r}: {test['run']!r} selects no test\n{result.stderr[-2000:]}")
        else:
            print(f"autograding: {test['id']}: {len(found)} test(s), {test['points']} points")
    return problems


def main(args):
    if args not in ([], ["--write"], ["--workflow"]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    spec = load_spec()
    problems = spec_problems(spec)
    if not problems and args == ["--write"]:
        with open(os.path.join(ROOT, WORKFLOW), "w", encoding="utf-8") as f:
            f.write(workflow(spec))
        print(f"autograding: wrote {WORKFLOW}: {len(spec['tests'])} graded steps")
        return 0
    if not problems:
        problems = workflow_problems(spec)
    if not problems and args == []:
        problems = selection_problems(spec)
    for problem in problems:
        print(f"autograding: {problem}", file=sys.stderr)
    if not problems:
        total = sum(t["points"] for t in spec["tests"])
        print(f"autograding: {WORKFLOW} matches {SPEC}: {len(spec['tests'])} tests, {total} points")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
