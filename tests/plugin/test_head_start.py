"""When the controller starts the builds itself (harness.plugin.head_start)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.plugin.head_start import checks_every_platform

CHECKS = "/venv/lib/python3.11/site-packages/harness/plugin/checks.py"
DEFAULTS = {"collectonly": False, "setupplan": False, "setuponly": False, "keyword": "",
            "markexpr": "", "lf": False, "stepwise": False, "deselect": None}


def test_a_plain_run_checks_every_platform() -> None:
    assert checks_every_platform(SimpleNamespace(**DEFAULTS), [CHECKS, "checks/"])
    # pytest without its cache plugin (-p no:cacheprovider) has no --lf at all
    bare = {k: v for k, v in DEFAULTS.items() if k not in ("lf", "stepwise")}
    assert checks_every_platform(SimpleNamespace(**bare), [CHECKS])


@pytest.mark.parametrize(("name", "value"), [
    ("keyword", "uname"), ("markexpr", "slow"), ("lf", True), ("stepwise", True),
    ("deselect", [f"{CHECKS}::test_builds"]), ("collectonly", True), ("setupplan", True),
    ("setuponly", True)])
def test_a_selection_or_a_plan_leaves_the_builds_to_the_workers(name: str, value: object
                                                                ) -> None:
    """A platform the selection leaves out must not be built, nor anything for a plan."""
    assert not checks_every_platform(SimpleNamespace(**{**DEFAULTS, name: value}), [CHECKS])


def test_a_test_id_is_a_selection() -> None:
    assert not checks_every_platform(SimpleNamespace(**DEFAULTS),
                                     [f"{CHECKS}::test_builds[linux/arm64]"])
