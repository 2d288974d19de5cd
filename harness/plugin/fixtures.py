"""The fixtures image checks use, and how a source's findings become a test outcome.

``built`` and ``checked`` are session-scoped per platform: a platform's build and probes run
once in the worker that holds the platform's group, and every test of it reads the result.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import pytest

from harness.outcomes import Kind
from harness.pipeline import Built, Checked, Pipeline
from harness.platforms import Platform
from harness.plugin.state import STATE
from harness.verdicts import ERROR, FAIL, QUIRK

Agrees = Callable[[str], None]


class QuirkWarning(UserWarning):
    """A known, harmless effect of the host on what an image reports."""


@pytest.fixture(scope="session")
def harness_pipeline(request: pytest.FixtureRequest) -> Pipeline:
    return request.config.stash[STATE].pipeline


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Platform:
    """The platform under check (parametrised from --platform / [tool.harness])."""
    platform: Platform = request.param
    return platform


@pytest.fixture(scope="session")
def built(harness_pipeline: Pipeline, target: Platform) -> Built:
    return harness_pipeline.build(target)


@pytest.fixture(scope="session")
def checked(harness_pipeline: Pipeline, built: Built) -> Checked:
    if built.error is not None:
        pytest.skip(f"{built.platform.name} did not build (see test_builds)")
    checked = harness_pipeline.check(built)
    if checked.error is not None:
        if checked.error.kind.verdict is FAIL:
            pytest.fail(str(checked.error), pytrace=False)
        # A probe that cannot run is the machine's trouble: an ERROR, not a FAILED check.
        raise checked.error
    return checked


@pytest.fixture
def agrees(checked: Checked, request: pytest.FixtureRequest) -> Agrees:
    """``agrees(source)``: the check of one source, under the run's quirk policy."""
    policy = request.config.stash[STATE].cfg.quirk_policy
    return functools.partial(expect, checked, quirk_policy=policy)


def expect(checked: Checked, source: str, quirk_policy: str = "warn") -> None:
    """Pass when ``source`` agrees with the platform; fail, warn or skip as its findings say."""
    assert checked.judgement is not None
    findings = checked.judgement.for_source(source)
    failed = [f for f in findings if f.verdict == FAIL]
    if failed:
        pytest.fail("\n".join(f"{f.message}\n  fix: {f.fix}" for f in failed), pytrace=False)
    errors = [f for f in findings if f.verdict == ERROR]
    if errors:
        pytest.fail("cannot check: " + "; ".join(f.message for f in errors), pytrace=False)
    for f in findings:
        if f.verdict == QUIRK:
            text = f"{checked.platform.name}: {f.message}\n  fix: {f.fix}"
            if quirk_policy == "fail":
                pytest.fail(f"quirk (quirk-policy=fail): {text}", pytrace=False)
            warnings.warn(QuirkWarning(text), stacklevel=2)
    if any(f.kind is Kind.ABSENT for f in findings):
        pytest.skip(f"{source} is not in the image")
