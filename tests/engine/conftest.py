"""Engine tests: every one runs against the real engine and must leave no probe behind."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this directory's tests `engine`, so `-m "not engine"` runs the unit tests alone."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.engine)


@pytest.fixture(autouse=True)
def _no_leftovers(no_leftovers: None) -> None:
    """Applies the root conftest's leftover check to every engine test."""
