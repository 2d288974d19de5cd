"""The plugin's exit status: the verdicts decide, pytest's own statuses keep their meaning."""

from __future__ import annotations

import pytest

from harness.core.outcomes import Exit
from harness.plugin.results import run_status


@pytest.mark.parametrize(("pytest_status", "verdicts", "expected"), [
    (0, Exit.OK, Exit.OK),
    (1, Exit.IMAGE_WRONG, Exit.IMAGE_WRONG),  # a failed check and a fail verdict agree
    (1, Exit.CANNOT_CHECK, Exit.CANNOT_CHECK),  # checks that could not run
    (1, Exit.OK, Exit.SOFTWARE),  # a check failed that no verdict explains: a harness bug
    (3, Exit.OK, Exit.SOFTWARE),  # pytest's internal error
    (3, Exit.IMAGE_WRONG, Exit.IMAGE_WRONG),
    (2, Exit.CANNOT_CHECK, Exit.INTERRUPTED),  # Ctrl-C wins, and report.json says so
    (4, Exit.OK, Exit.USAGE),
    (5, Exit.CANNOT_CHECK, Exit.USAGE),  # no test selected: the selection is the mistake
    (1, Exit.USAGE, Exit.USAGE),
])
def test_run_status(pytest_status: int, verdicts: int, expected: int) -> None:
    assert run_status(pytest_status, verdicts) == expected
