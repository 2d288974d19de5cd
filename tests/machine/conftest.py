"""Machine tests: they install packages, take apt's lock or read this machine's setup, so
they need root on Debian (as `nox -s preflight` does), though no container engine."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this directory's tests `machine`: `-m "not engine and not machine"` runs the
    unit tests alone, as any user."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.machine)
