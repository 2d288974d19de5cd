"""The built-in checks ``multiarch-harness build`` (and ``nox -s build``) runs for every
platform of the image, and the checks declared in ``[tool.harness.checks]``.

Each case reads one source of what the image is (one per source of harness.core.answers.sources,
and per declared check) and asserts that it agrees with the platform the image was built
for. All of them share one build and one probe run per platform (the
``built`` and ``checked`` fixtures of ``harness.plugin.fixtures``); the verdicts and reports
come from the same judgement, so the JUnit XML and report.json never disagree.
"""

from __future__ import annotations

import pytest

from harness.containers.stages import Built
from harness.core.sinks import terminal
from harness.plugin.fixtures import Agrees


def test_builds(built: Built) -> None:
    """The Dockerfile builds for the platform (log: report-dir/logs/PLATFORM-build.log)."""
    if built.error is not None:
        tail = getattr(built.error, "log_tail", "")
        # The build's output is the image's: escaped and bounded before it is shown.
        shown = "\n".join(terminal(line, 300) for line in tail.splitlines()[-25:])
        fix = f"\n  fix: {terminal(built.error.fix)}" if built.error.fix else ""
        pytest.fail(f"{terminal(built.error.message)}{fix}\n{shown}", pytrace=False)


def test_source(agrees: Agrees, source: str) -> None:
    """One case per built-in source of harness.core.answers.sources and platform
    (``test_source[rustc-linux/386]``): the source's answer agrees with the platform, or its
    findings fail, warn or skip the case as they do the platform's verdict."""
    agrees(source)


def test_declared_check(agrees: Agrees, declared_check: str) -> None:
    """A check of [tool.harness.checks]: its command, run in the image, prints what it
    expects for the platform."""
    agrees(declared_check)


def test_structure(agrees: Agrees, structure_test: str) -> None:
    """A test of a container-structure-test config (``--structure-tests FILE``), judged as
    CST judges it, on the platform."""
    agrees(structure_test)


def test_service(agrees: Agrees, service_check: str) -> None:
    """The image's own service, started on the platform, answers a GET as expected
    (``--service-check``, ``[tool.harness.service]``)."""
    agrees(service_check)
