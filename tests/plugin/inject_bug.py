"""A pytest plugin that plants a bug in the harness (``-p tests.plugin.inject_bug``): the
probes raise an exception the harness does not expect, as a bug of its own would."""

from __future__ import annotations

from typing import Any

import pytest

from harness.containers import probes


def _broken(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("injected bug")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    probes.observe = _broken  # type: ignore[assignment]
