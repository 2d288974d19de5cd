"""The fixtures image checks use, and how a source's findings become a test outcome.

``built`` and ``checked`` are session-scoped per platform: a platform's build and probes run
once in the worker that holds the platform's group, and every test of it reads the result.

A user's own checks (``--checks DIR``) are ordinary pytest tests that ask for ``target`` (the
platform under check) and ``image`` (:class:`ImageUnderCheck`: run a command in the platform's
image, read a file from it). Their outcomes are recorded as sources of the platform
(``pytest:FILE::TEST``), so report.json, the verdict and the exit status include them.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.containers.pipeline import Built, Checked, Pipeline
from harness.containers.probes import ImageProbe
from harness.core.answers import observation as obs
from harness.core.answers import sources
from harness.core.failures.diagnosis import clean
from harness.core.failures.errors import CannotCheck, HarnessError
from harness.core.judging.verdicts import USER_TEST
from harness.core.outcomes import Kind, Verdict
from harness.core.platforms.table import Platform
from harness.core.platforms.unit import Unit
from harness.core.sinks import terminal
from harness.plugin import head_start
from harness.plugin.state import STATE, unit_of

Agrees = Callable[[str], None]


class QuirkWarning(UserWarning):
    """A known, harmless effect of the host on what an image reports."""


@pytest.fixture(scope="session")
def unit(request: pytest.FixtureRequest) -> Unit:
    """The unit of work under check: a platform (parametrised from --platform /
    [tool.harness]), of a Bake target with --bake."""
    found: Unit = request.param
    return found


@pytest.fixture(scope="session")
def harness_pipeline(request: pytest.FixtureRequest, unit: Unit) -> Pipeline:
    """The pipeline of the unit's target (the run's one without --bake)."""
    return request.config.stash[STATE].pipeline_for(unit.target)


@pytest.fixture(scope="session")
def target(unit: Unit) -> Platform:
    """The platform under check."""
    return unit.platform


@pytest.fixture(scope="session")
def built(request: pytest.FixtureRequest, harness_pipeline: Pipeline, target: Platform) -> Built:
    if head_start.started(request.config):  # the controller builds it
        return harness_pipeline.adopt(target)
    return harness_pipeline.build(target)


@pytest.fixture(scope="session")
def checked(harness_pipeline: Pipeline, built: Built) -> Checked:
    if built.error is not None:
        pytest.skip(f"{built.platform.name} did not build (see test_builds)")
    checked = harness_pipeline.check(built)
    error = checked.error
    if error is not None:
        shown = terminal(error.message) + (f"\n  fix: {terminal(error.fix)}" if error.fix
                                           else "")
        if error.kind.verdict is Verdict.FAIL:
            pytest.fail(shown, pytrace=False)
        # A probe that cannot run is the machine's trouble: an ERROR, not a FAILED check.
        raise CannotCheck(shown, kind=error.kind) from None
    return checked


@dataclass(frozen=True)
class CommandResult:
    status: int
    # stdout and stderr, made safe to show: control characters escaped (\x1b), at most
    # OUTPUT_LIMIT characters. A test's assertion message may print it to a terminal.
    output: str


OUTPUT_LIMIT = 1 << 20


class ImageUnderCheck:
    """One platform's image, for a user's own checks: commands run in one container of it,
    under the platform's emulation, with no network and no privileges (as the probes do)."""

    READ_LIMIT = 64 << 20  # bytes of a file `read` returns at most

    def __init__(self, probe: ImageProbe) -> None:
        self._probe = probe
        self.platform: Platform = probe.platform
        self.id: str = probe.image

    def run(self, *command: str, timeout: float | None = None) -> CommandResult:
        """``image.run("myapp", "--version")``; a string alone is run with ``sh -c``."""
        argv = ["sh", "-c", command[0]] if len(command) == 1 and " " in command[0] \
            else list(command)
        status, output = self._probe.exec(argv, timeout)
        return CommandResult(status, clean(output, OUTPUT_LIMIT))

    def read(self, path: str) -> bytes:
        """The content of ``path`` (symlinks followed); FileNotFoundError when there is none."""
        found = self._probe.read(path, self.READ_LIMIT)
        if found is None:
            raise FileNotFoundError(f"{path} is not in the {self.platform.name} image")
        return found[1]


@pytest.fixture(scope="session")
def image(harness_pipeline: Pipeline, checked: Checked) -> Iterator[ImageUnderCheck]:
    """The platform's image, started once for all the user's checks of it."""
    built = harness_pipeline.built[checked.platform.name]
    assert built.image is not None and built.image.id is not None
    log = harness_pipeline.cfg.log_dir / \
        f"{harness_pipeline.unit(checked.platform).slug}-checks.log"
    with ImageProbe(harness_pipeline.engines.client(checked.platform), built.image.id,
                    checked.platform, timeout=harness_pipeline.cfg.probe_timeout, log_path=log,
                    mode=built.mode.kind if built.mode else None,
                    docker_host=harness_pipeline.engines.url(checked.platform)) as probe:
        yield ImageUnderCheck(probe)


BUILTIN = Path(__file__).with_name("checks.py")


def is_user_test(item: pytest.Item) -> bool:
    """A test of the user's (``--checks DIR``) that checks a platform."""
    return item.path != BUILTIN and unit_of(item) is not None


def user_source(item: pytest.Item, unit: Unit) -> str:
    """``pytest:checks/test_app.py::test_version`` (other parameters kept, the unit not)."""
    name = item.nodeid.partition("[")[0]
    callspec = getattr(item, "callspec", None)
    rest = callspec.id.removesuffix(unit.name).rstrip("-") if callspec else ""
    return f"{USER_TEST}{name}" + (f"[{rest}]" if rest else "")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A user's check that ran (passed or failed) becomes a source of its platform."""
    report = yield
    unit = unit_of(item)
    if report.when == "call" and not report.skipped and unit is not None \
            and is_user_test(item):
        pipeline = item.config.stash[STATE].pipeline_for(unit.target)
        message, kind, fix, cause = "", None, None, None
        if call.excinfo is not None:
            error = call.excinfo.value
            message = clean(call.excinfo.exconly(), 500)
            if isinstance(error, HarnessError):  # a probe that hung is the machine's trouble
                kind, fix, cause = str(error.kind), error.fix, error.cause or None
        seen = obs.user_test(user_source(item, unit), report.passed, message, kind, fix,
                             cause)
        pipeline.record_user_test(unit.platform, seen)
    return report


@pytest.fixture
def agrees(checked: Checked, request: pytest.FixtureRequest) -> Agrees:
    """``agrees(source)``: the check of one source, under the run's quirk policy."""
    policy = request.config.stash[STATE].cfg.quirk_policy
    return functools.partial(expect, checked, quirk_policy=policy)


def expect(checked: Checked, source: str, quirk_policy: str = "warn") -> None:
    """Pass when ``source`` agrees with the platform; fail, warn or skip as its findings say."""
    assert checked.judgement is not None
    if not any(o.source == source for o in checked.observations):
        # A source that does not apply to the platform has its observation (and finding):
        # what is left unasked is a userland after the one that answered, or a run this
        # machine does not make (the baseline CPU of a platform run natively, no launcher).
        why = "another source answered for it" if source in sources.USERLANDS else \
            f"not asked of {checked.platform.name} on this machine"
        pytest.skip(f"{source} was not asked of this image ({why})")
    findings = checked.judgement.for_source(source)
    failed = [f for f in findings if f.verdict == Verdict.FAIL]
    if failed:  # pytest prints these on the terminal and into junit.xml: the terminal's sink
        pytest.fail("\n".join(f"{terminal(f.message)}\n  fix: {terminal(f.fix)}"
                               for f in failed), pytrace=False)
    errors = [f for f in findings if f.verdict == Verdict.ERROR]
    if errors:
        pytest.fail("cannot check: " + "; ".join(terminal(f.message) for f in errors),
                    pytrace=False)
    for f in findings:
        if f.verdict == Verdict.QUIRK:
            text = f"{checked.platform.name}: {terminal(f.message)}\n  fix: {terminal(f.fix)}"
            if quirk_policy == "fail":
                pytest.fail(f"quirk (quirk-policy=fail): {text}", pytrace=False)
            warnings.warn(QuirkWarning(text), stacklevel=2)
    skipped = [f for f in findings if f.kind in (Kind.SKIPPED, Kind.NOT_APPLICABLE)]
    if skipped:
        pytest.skip(terminal(skipped[0].message))
    if any(f.kind is Kind.ABSENT for f in findings):
        pytest.skip(f"{source} is not in the image")
