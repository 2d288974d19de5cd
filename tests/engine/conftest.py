"""Engine tests: every one runs against the real engine and must leave no probe behind."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.engine


@pytest.fixture(autouse=True)
def _no_leftovers(no_leftovers: None) -> None:
    """Applies the root conftest's leftover check to every engine test."""
