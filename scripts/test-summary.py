#!/usr/bin/env python3
"""The test command's last line: what cargo's own `test result:` lines add
up to over step 1 (unit, handler, infrastructure) and step 3 (end to end),
and a check that nothing was skipped: every test step 1 lists as ignored
(the #[ignore]d end-to-end tests) must have run and passed in step 3.

Usage: scripts/test-summary.py STEP1_LOG STEP3_LOG [--filtered]
(--filtered: step 1 ran with extra cargo arguments, so its ignored count
is not the whole end-to-end suite; the counts are printed, not compared).
"""
import re
import sys

RESULT = re.compile(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored; (\d+) measured; (\d+) filtered out")


def totals(path):
    passed = failed = ignored = 0
    with open(path, errors="replace") as f:
        for line in f:
            m = RESULT.search(line)
            if m:
                passed += int(m[1])
                failed += int(m[2])
                ignored += int(m[3])
    return passed, failed, ignored


def main():
    step1, step3 = sys.argv[1], sys.argv[2]
    filtered = "--filtered" in sys.argv[3:]
    p1, f1, i1 = totals(step1)
    p3, f3, i3 = totals(step3)
    print(f"tests: {p1 + p3} passed ({p1} unit/handler/infrastructure + {p3} end-to-end), "
          f"{f1 + f3} failed, {i3} skipped; step 1 set aside {i1} end-to-end tests for step 3")
    if f1 or f3:
        sys.exit("test summary: failures")
    if i3:
        sys.exit(f"test summary: {i3} end-to-end tests were skipped")
    if not filtered and i1 != p3:
        sys.exit(f"test summary: step 1 set aside {i1} tests but step 3 ran {p3}: "
                 "an #[ignore]d test is in no --test of scripts/test.sh step 3")


if __name__ == "__main__":
    main()
