"""Engine tests: every one runs against the real engine and must leave no probe behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.machine import kept

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this directory's tests `engine`, so `-m "not engine"` runs the unit tests alone."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.engine)


@pytest.fixture(autouse=True)
def _no_leftovers(no_leftovers: None) -> None:
    """Applies the root conftest's leftover check to every engine test."""


@pytest.fixture(autouse=True)
def _answers_asked_anew() -> None:
    """Every engine test's runs ask their images (harness.machine.kept keeps the answers of
    an image that ran before as it would run now): many tests build the same small images,
    and what a test asserts of a probe is that run's. A test's own reruns read back."""
    shutil.rmtree(kept.answers_dir(), ignore_errors=True)
