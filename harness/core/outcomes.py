"""Verdicts, finding kinds and exit statuses: the words a CI gates on, defined once.

Pure: no I/O. The values are the strings report.json has always carried (``StrEnum``), so a
member compares equal to its string and serialises as it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import IntEnum, StrEnum
from typing import Any


class Exit(IntEnum):
    """The process's exit status; each means one thing to a CI job."""

    OK = 0
    IMAGE_WRONG = 1  # block the release: an image is wrong
    INTERRUPTED = 2  # Ctrl-C, SIGTERM (pytest's own 2)
    USAGE = 4  # bad input (pytest's own 4): fix the command or config
    CANNOT_CHECK = 69  # sysexits EX_UNAVAILABLE: the machine could not check; retry or fix it
    SOFTWARE = 70  # sysexits EX_SOFTWARE: a bug in the harness; report it


class Verdict(StrEnum):
    PASS = "pass"
    QUIRK = "quirk"
    FAIL = "fail"
    ERROR = "error"


# An image known wrong outranks "cannot check", which outranks a harmless quirk.
_RANK = {Verdict.PASS: 0, Verdict.QUIRK: 1, Verdict.ERROR: 2, Verdict.FAIL: 3}


class RunKind(StrEnum):
    """How a platform's binaries run on the engine's host."""

    NATIVE = "native"
    QEMU = "qemu"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class RunMode:
    """How containers of one platform run on the engine's host (see harness.machine.host)."""

    kind: RunKind
    handler: str | None = None
    interpreter: str | None = None
    flags: str | None = None
    qemu_version: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", RunKind(self.kind))  # from report.json's strings too

    @property
    def can_run(self) -> bool:
        return self.kind is not RunKind.UNAVAILABLE

    def describe(self) -> str:
        if self.kind is RunKind.QEMU:
            version = f" {self.qemu_version}" if self.qemu_version else ""
            return f"QEMU{version} ({self.handler}, flags {self.flags or '-'})"
        return self.kind

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind": str(self.kind)}


class Kind(StrEnum):
    """What a finding says; each kind implies one verdict and one exit status."""

    MISMATCH = "mismatch"  # a source names another platform
    MISSING = "missing"  # a required tool is absent
    BUILD = "build"  # the build failed for a reason of the image (a RUN step, a bad FROM)
    BROKEN = "broken"  # a tool is there but does not work (exit status, signal, foreign binary)
    QUIRK = "quirk"  # a known harmless effect of the host
    ERROR = "error"  # the machine could not check
    EMULATOR = "emulator"  # QEMU crashed where another emulator did not, or with no evidence
    USAGE = "usage"  # bad input found only once work had started
    INTERNAL = "internal"  # the harness itself failed
    ABSENT = "absent"  # an optional tool is absent: nothing to check
    SKIPPED = "skipped"  # not checked on this platform, by an override with its reason
    NOT_APPLICABLE = "not-applicable"  # the source has nothing to check on this platform

    @property
    def verdict(self) -> Verdict:
        return _KIND_VERDICT[self]

    @property
    def exit_status(self) -> Exit:
        return _KIND_EXIT[self]


_KIND_VERDICT = {
    Kind.MISMATCH: Verdict.FAIL, Kind.MISSING: Verdict.FAIL, Kind.BUILD: Verdict.FAIL,
    Kind.BROKEN: Verdict.FAIL, Kind.QUIRK: Verdict.QUIRK, Kind.ERROR: Verdict.ERROR,
    Kind.EMULATOR: Verdict.ERROR,
    Kind.USAGE: Verdict.ERROR, Kind.INTERNAL: Verdict.ERROR, Kind.ABSENT: Verdict.PASS,
    Kind.SKIPPED: Verdict.PASS, Kind.NOT_APPLICABLE: Verdict.PASS,
}
_KIND_EXIT = {
    **{k: Exit.IMAGE_WRONG for k, v in _KIND_VERDICT.items() if v is Verdict.FAIL},
    Kind.QUIRK: Exit.OK, Kind.ABSENT: Exit.OK, Kind.SKIPPED: Exit.OK,
    Kind.NOT_APPLICABLE: Exit.OK,
    Kind.ERROR: Exit.CANNOT_CHECK,
    Kind.EMULATOR: Exit.CANNOT_CHECK,
    Kind.USAGE: Exit.USAGE, Kind.INTERNAL: Exit.SOFTWARE,
}
# When kinds disagree, the first status in this order decides: a wrong image blocks whatever
# else happened; bad input and a harness bug are named before a machine that could not check.
_EXIT_ORDER = (Exit.IMAGE_WRONG, Exit.USAGE, Exit.SOFTWARE, Exit.CANNOT_CHECK, Exit.OK)


def worst(verdicts: Iterable[str]) -> Verdict:
    return max((Verdict(v) for v in verdicts), key=_RANK.__getitem__, default=Verdict.PASS)


def exit_status(kinds: Iterable[str], quirk_policy: str = "warn") -> Exit:
    """The run's exit status from every finding kind of every platform (and the index)."""
    statuses = set()
    for k in kinds:
        kind = Kind(k)
        statuses.add(Exit.IMAGE_WRONG if kind is Kind.QUIRK and quirk_policy == "fail"
                     else kind.exit_status)
    return next((s for s in _EXIT_ORDER if s in statuses), Exit.OK)
