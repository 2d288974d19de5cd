"""junit.xml completed with what only the controller knows at the end of a run.

A platform whose work was cut short is a JUnit error that says so (pytest's own file lists
only the tests that ran, and a CI that reads JUnit alone would see "0 tests" or "2 passed");
a declared check with ``same = true`` that the platforms answered differently is a failure
``same[CHECK]`` (each platform's own case passed: its answer matched its pattern)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.core import sinks
from harness.machine import files

CLASSNAME = "harness"


def add_errors(path: Path, errors: dict[str, str]) -> None:
    """One ``interrupted[PLATFORM]`` case with an ``<error>`` per platform in ``errors``
    (platform -> message)."""
    _add(path, "error", {f"interrupted[{platform}]": (
        f"{platform}: {message}", f"{platform}: {message}; run again to check this platform")
        for platform, message in errors.items()})


def add_failures(path: Path, failures: dict[str, list[str]]) -> None:
    """One ``same[CHECK]`` case with a ``<failure>`` per check in ``failures`` (check ->
    what each odd platform printed)."""
    _add(path, "failure", {f"same[{check}]": (messages[0], "\n".join(messages))
                           for check, messages in failures.items()})


def _add(path: Path, tag: str, cases: dict[str, tuple[str, str]]) -> None:
    """Cases named by ``cases`` (name -> (message, text)), each with one ``tag`` element, the
    suite's counts kept true. A missing or unreadable file is left as it is: the reports say
    the same."""
    if not cases:
        return
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        return
    root = tree.getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return
    for name, (message, text) in cases.items():
        case = ET.SubElement(suite, "testcase", classname=CLASSNAME,
                             name=sinks.terminal(name), time="0")
        element = ET.SubElement(case, tag, message=sinks.terminal(message))
        element.text = "\n".join(sinks.terminal(line) for line in text.splitlines())
    for key in ("tests", "errors" if tag == "error" else "failures"):
        suite.set(key, str(int(suite.get(key, "0")) + len(cases)))
    files.write_atomic(path, ET.tostring(root, encoding="unicode", xml_declaration=True))
