#!/usr/bin/env python3
"""Sums JUnit XML files (cmocka, pytest, fuzz smoke, stage failures) in a
directory and prints the one line CI reads: "N passed, N failed".

Skipped cases are neither; errors count as failed. Exit status 1 if any
case failed or if no case ran at all."""
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def parse(path):
    """The root of a JUnit file. A cmocka binary that runs several groups
    writes one <testsuites> document per group into the same file, so a
    file of concatenated documents is read as one under a synthetic root."""
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as first:
        text = re.sub(r"<\?xml[^>]*\?>", "", path.read_text(errors="replace"))
        try:
            return ET.fromstring(f"<all>{text}</all>")
        except ET.ParseError:
            raise first


def count(path):
    passed = failed = 0
    failures = []
    try:
        root = parse(path)
    except ET.ParseError as e:
        return 0, 1, [f"{path.name}: unreadable results ({e})"]
    for case in root.iter("testcase"):
        if case.find("skipped") is not None:
            continue
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if bad is None:
            passed += 1
        else:
            failed += 1
            failures.append(f"{path.stem}: {case.get('classname', '')} {case.get('name')}")
    return passed, failed, failures


def main():
    results = Path(sys.argv[1] if len(sys.argv) > 1 else "build/test-results")
    passed = failed = 0
    failures = []
    for f in sorted(results.glob("*.xml")):
        p, fl, names = count(f)
        passed += p
        failed += fl
        failures += names
    for name in failures:
        print(f"FAILED {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
