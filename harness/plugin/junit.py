"""junit.xml completed after an interruption: a platform whose work was cut short is a JUnit
error that says so (pytest's own file lists only the tests that ran, and a CI that reads
JUnit alone would see "0 tests" or "2 passed")."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.core import sinks
from harness.machine import files

CLASSNAME = "harness"


def add_errors(path: Path, errors: dict[str, str]) -> None:
    """One ``interrupted[PLATFORM]`` case with an ``<error>`` per platform in ``errors``
    (platform -> message), the suite's counts kept true. A missing or unreadable file is
    left as it is: the reports say the same."""
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        return
    root = tree.getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return
    for platform, message in errors.items():
        case = ET.SubElement(suite, "testcase", classname=CLASSNAME,
                             name=f"interrupted[{platform}]", time="0")
        error = ET.SubElement(case, "error", message=sinks.terminal(f"{platform}: {message}"))
        error.text = f"{sinks.terminal(platform)}: {sinks.terminal(message)}; run again to " \
                     "check this platform"
    for key in ("tests", "errors"):
        suite.set(key, str(int(suite.get(key, "0")) + len(errors)))
    files.write_atomic(path, ET.tostring(root, encoding="unicode", xml_declaration=True))
