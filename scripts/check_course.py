#!/usr/bin/env python3
"""Checks that the course's parts agree with the book's list of lessons (docs/src/SUMMARY.md):
scripts/tour.sh runs every lesson's demo, in the book's order; every chapter (the introduction
and each lesson) has a lesson plan in docs/src/instructors/ listed in SUMMARY.md, and a
"**Terms:**" line linking the glossary.

Usage: check_course.py REPO_DIR. Exits 1 and lists every problem found.
"""
import os
import re
import sys


def lessons_in_summary(summary):
    """The chapters of the "# Lessons" part, in order, without their .md."""
    part = re.search(r"^# Lessons\n(.*?)(?=^# |\Z)", summary, re.S | re.M)
    if not part:
        return []
    return re.findall(r"^- \[[^\]]*\]\(([^)/]+)\.md\)", part.group(1), re.M)


def lessons_in_tour(tour):
    """The lessons of tour.sh's `lessons=( "name|what to watch for" … )` list, in order."""
    block = re.search(r"^lessons=\((.*?)^\)", tour, re.S | re.M)
    return re.findall(r'^\s*"([^|"]+)\|', block.group(1), re.M) if block else []


def check(repo):
    problems = []
    src = os.path.join(repo, "docs", "src")
    with open(os.path.join(src, "SUMMARY.md"), encoding="utf-8") as f:
        summary = f.read()
    with open(os.path.join(repo, "scripts", "tour.sh"), encoding="utf-8") as f:
        tour = f.read()
    lessons = lessons_in_summary(summary)
    if not lessons:
        problems.append("SUMMARY.md: no chapters found under '# Lessons'")
    toured = lessons_in_tour(tour)
    if toured != lessons:
        problems.append(
            f"scripts/tour.sh runs {toured}, but the book's lessons are {lessons}, in that order"
        )
    for chapter in ["introduction"] + lessons:
        plan = f"instructors/{chapter}.md"
        if f"({plan})" not in summary:
            problems.append(f"{chapter}.md: no lesson plan {plan} listed in SUMMARY.md")
        with open(os.path.join(src, f"{chapter}.md"), encoding="utf-8") as f:
            if not re.search(r"^\*\*Terms:\*\* .*\(glossary\.md#", f.read(), re.M):
                problems.append(f"{chapter}.md: no '**Terms:**' line linking the glossary")
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = check(sys.argv[1])
    for problem in problems:
        print(f"course: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
