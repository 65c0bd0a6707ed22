"""summarize.py JUNIT_XML [--list] — per-file counts of a pytest JUnit XML
report (passed, failed, skipped, errors), then each failed test with the
first line of its failure message. --list prints only "file::test outcome"
lines (one per test) for comparing two runs."""
import sys
import xml.etree.ElementTree as ET
from collections import OrderedDict


def outcomes(path):
    for case in ET.parse(path).getroot().iter("testcase"):
        cls = case.get("classname", "")
        mod = cls.split(".")[-1] if cls else "?"
        name = case.get("name")
        outcome, msg = "passed", ""
        for tag in ("failure", "error", "skipped"):
            el = case.find(tag)
            if el is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                msg = (el.get("message") or el.text or "").strip().splitlines()
                msg = msg[0] if msg else ""
                break
        yield mod, name, outcome, msg


def main():
    path = sys.argv[1]
    rows = list(outcomes(path))
    if "--list" in sys.argv:
        for mod, name, outcome, _ in rows:
            print(f"{mod}::{name} {outcome}")
        return
    per = OrderedDict()
    for mod, _, outcome, _ in rows:
        c = per.setdefault(mod, {"passed": 0, "failed": 0, "skipped": 0, "error": 0})
        c[outcome] += 1
    tot = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    for mod, c in per.items():
        print(f"{mod:28s} {c['passed']:4d} passed {c['failed']:4d} failed "
              f"{c['skipped']:4d} skipped {c['error']:4d} errors")
        for k in tot:
            tot[k] += c[k]
    print(f"{'total':28s} {tot['passed']:4d} passed {tot['failed']:4d} failed "
          f"{tot['skipped']:4d} skipped {tot['error']:4d} errors")
    bad = [r for r in rows if r[2] in ("failed", "error")]
    if bad:
        print("not passing:")
        for mod, name, outcome, msg in bad:
            print(f"  {mod}::{name} [{outcome}] {msg[:160]}")


if __name__ == "__main__":
    main()
