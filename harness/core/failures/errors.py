"""The harness's one root exception, and the kinds of trouble under it.

Each error carries the user's message, the fix, and the :class:`~harness.core.outcomes.Kind` that
decides the verdict and the exit status; errors found by
:func:`harness.core.failures.diagnosis.diagnose`
also carry the name of the cause. Exit statuses are defined in ``harness.core.outcomes``.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from harness.core import sinks
from harness.core.outcomes import Exit, Kind

if TYPE_CHECKING:
    from harness.core.failures.diagnosis import Diagnosis



class HarnessError(Exception):
    """Base class: a message for the user, the fix to apply, and what kind of trouble it is."""

    kind: Kind = Kind.ERROR

    def __init__(self, message: str, fix: str = "", *, kind: Kind | None = None,
                 cause: str = "") -> None:
        # Redacted here, once, for every sink: a message often quotes another program's
        # (the docker SDK's "Invalid bind address format: tcp://user:PW@…"), and some sinks
        # (preflight's survey, pytest's own error line) print it as it is.
        message, fix = sinks.redact(message), sinks.redact(fix)
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.cause = cause
        if kind is not None:
            self.kind = kind

    @property
    def exit_status(self) -> Exit:
        return self.kind.exit_status

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class UsageError(HarnessError):
    """Bad input: unknown platform, missing Dockerfile or context, malformed option."""

    kind = Kind.USAGE


def check_known(keys: Iterable[str], known: Collection[str], where: str) -> None:
    """An unknown key is a usage error, with the nearest known one: a typo must not silently
    weaken a check."""
    for key in keys:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            raise UsageError(f"unknown key {key!r} in {where}",
                             f"did you mean {near[0]!r}?" if near else
                             f"known keys: {', '.join(known)}")


class CannotCheck(HarnessError):
    """The machine cannot check: no engine, no QEMU handler, unreachable mirror, hung probe."""


class EngineUnavailable(CannotCheck):
    pass


class NoEmulation(CannotCheck):
    pass


class BaseUnavailable(CannotCheck):
    pass


class ProbeTimeout(CannotCheck):
    pass


class ImageWrong(HarnessError):
    """The image itself is broken: a failing RUN step, a base of another platform."""

    kind = Kind.BUILD


class BuildFailed(ImageWrong):
    def __init__(self, message: str, fix: str = "", log_tail: str = "", *,
                 kind: Kind | None = None, cause: str = "") -> None:
        super().__init__(message, fix, kind=kind, cause=cause)
        self.log_tail = log_tail


_BY_VERDICT = {"fail": ImageWrong, "error": CannotCheck}


def from_diagnosis(d: Diagnosis, error: type[HarnessError] | None = None) -> HarnessError:
    """The exception for a diagnosis: ``error`` when given and of the same verdict, else the
    class its kind calls for (usage errors are always :class:`UsageError`)."""
    if d.kind is Kind.USAGE:
        cls: type[HarnessError] = UsageError
    elif error is not None and issubclass(error, _BY_VERDICT.get(d.kind.verdict, HarnessError)):
        cls = error
    else:
        cls = _BY_VERDICT.get(d.kind.verdict, HarnessError)
    return cls(d.message, d.fix, kind=d.kind, cause=d.cause)
