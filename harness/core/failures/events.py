"""What happened, as the diagnosis reads it: the stage, an :class:`Event` (the command, its
exit status or signal, what it printed, how the platform runs here), a :class:`Cause` of the
table and the :class:`Diagnosis` it makes, and the helpers that bound and quote what an
engine printed. The table and its reading are harness.core.failures.diagnosis. Pure.
"""

from __future__ import annotations

import re
import signal as signals
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from harness.core import sinks
from harness.core.outcomes import Kind, RunKind


class Stage(StrEnum):
    PROVISION = "provision"
    BASE = "base"
    BUILD = "build"
    START = "start"
    PROBE = "probe"
    PUBLISH = "publish"
    CHECK = "check"
    ENGINE = "engine"  # reaching the engine: its docker context, builder and TLS


@dataclass(frozen=True)
class Event:
    """What happened, as plainly as the stage saw it."""

    stage: Stage
    output: str = ""  # what the command, engine or registry said (whole, or its tail)
    status: int | None = None  # exit status, or an HTTP status for the registry stages
    signal: int | None = None  # the signal that ended the command, if one did
    command: str = ""  # what ran, as the user would type it
    platform: str = ""  # linux/arm64
    mode: RunKind | None = None  # how the platform runs here
    subject: str = ""  # the tool or binary in question (probes: rustc)
    exists: bool = False  # the subject's file is in the image (probes)
    required: bool = False  # the subject is a required source
    timed_out: bool = False  # the harness gave up waiting
    host: str = ""  # the registry or mirror spoken to
    log: str = ""  # where the whole output is
    engine_answers: bool | None = None  # asked after the failure; None: not asked
    emulator: str = ""  # the QEMU the platform ran under (`QEMU 7.2.22`)
    second: str = ""  # the other emulator the command was run again under, if any
    # The command under ``second``: True ran as expected, False died there too, None not run.
    elsewhere: bool | None = None
    why_not: str = ""  # why there was no second emulator to ask
    # The run was being interrupted (Ctrl-C, a cancel's SIGTERM, its builds cancelled) when
    # the stage ended: whatever it printed then, the interruption ended it.
    interrupted: bool = False


@dataclass(frozen=True)
class Diagnosis:
    cause: str  # a stable name, one per row of the table
    kind: Kind
    message: str
    fix: str

    def __post_init__(self) -> None:
        # Redacted once for every sink: a row quotes what was printed, URLs with a password
        # in them included (see harness.core.failures.errors, which does the same).
        object.__setattr__(self, "message", sinks.redact(self.message))
        object.__setattr__(self, "fix", sinks.redact(self.fix))

    @property
    def transient(self) -> bool:
        """Worth retrying at once (a mirror mid-sync, a connection reset)."""
        return self.cause in TRANSIENT

    @property
    def interruption(self) -> bool:
        """The run was interrupted: the stage says nothing of the image or the machine."""
        return self.cause in INTERRUPTIONS


TRANSIENT = frozenset({"mirror-out-of-sync", "mirror-unreachable"})
INTERRUPTIONS = frozenset({"interrupted", "build-cancelled"})
INTERRUPTED_FIX = "run again to check this platform"

ENGINE_FIX = (
    "start a Docker engine (`dockerd &`, or `systemctl start docker`); on Debian/Ubuntu as root "
    "`nox -s preflight` installs and starts one; elsewhere point DOCKER_HOST at a running engine"
)
MIRROR_FIX = "check that the Debian mirror is reachable and in sync, or pass --mirror URL"
LOGIN_FIX = "log in with `docker login HOST` (the harness uses docker's stored credentials)"


def no_handler_fix(platform: str) -> str:
    return (
        f"register a QEMU handler for {platform}: on Debian/Ubuntu as root "
        "`apt-get install qemu-user-static binfmt-support && update-binfmts --enable` "
        "(or `nox -s preflight`, which does it); elsewhere "
        "`docker run --privileged --rm tonistiigi/binfmt --install all`"
    ) + (_ARM_ON_ARM64 if platform.startswith("linux/arm/") else "")


# Debian's package leaves 32-bit arm to the CPU on arm64, and many arm64 CPUs have no AArch32.
_ARM_ON_ARM64 = (
    "; on an arm64 host Debian's qemu-user-static registers no handler for arm: `nox -s "
    "preflight` as root registers QEMU's (binfmt_misc flag F), or `tonistiigi/binfmt "
    "--install arm`"
)


Make = Callable[[Event, "re.Match[str] | None"], tuple[str, str]]


@dataclass(frozen=True)
class Cause:
    """One row: where it applies, what shows it, and what it means."""

    name: str
    kind: Kind
    stages: frozenset[Stage]
    make: Make  # (message, fix) from the event and the match
    pattern: re.Pattern[str] | None = None
    when: Callable[[Event], bool] = lambda _e: True
    why: str = ""  # what makes this cause mean its kind (the troubleshooting page says it)

    def match(self, event: Event) -> re.Match[str] | bool | None:
        if event.stage not in self.stages or not self.when(event):
            return False
        if self.pattern is None:
            return None  # matches without text
        return self.pattern.search(event.output) or False


def _rx(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE | re.MULTILINE)


ALL = frozenset(Stage)
ENGINE_STAGES = frozenset({Stage.BASE, Stage.BUILD, Stage.START, Stage.PROBE, Stage.CHECK})
MIRROR_STAGES = frozenset({Stage.PROVISION, Stage.BASE, Stage.BUILD})
REGISTRY_STAGES = frozenset({Stage.PUBLISH, Stage.CHECK})




def clean(text: str, limit: int = 300) -> str:
    """Text from outside (an image, a mirror) made safe to show: control characters escaped
    (an image must not move a terminal's cursor or forge lines), at most ``limit`` characters."""
    # Redacted before the cut, so that no half of a password is left to show.
    text = sinks.visible(sinks.redact(text), keep="\t\n")  # bidi controls too, not just C0/C1
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _first_line(event: Event, m: re.Match[str] | None) -> str:
    """The line of the output that shows the cause."""
    if m is None:
        return ""
    start = event.output.rfind("\n", 0, m.start()) + 1
    end = event.output.find("\n", m.end())
    return clean(event.output[start:end if end >= 0 else None].strip())


def _where(event: Event) -> str:
    return f"{event.platform}: " if event.platform else ""


def _see(event: Event) -> str:
    return f"; see {event.log}" if event.log else ""


def signal_of(status: int | None) -> int | None:
    """The signal a command died by, from its exit status as a shell or the engine gives it
    (128 + N), or as Python gives it (-N); None when it exited by itself."""
    if status is None:
        return None
    if status < 0:
        return -status
    return status - 128 if 128 < status < 160 else None


def signal_name(number: int) -> str:
    try:
        return signals.Signals(number).name
    except ValueError:
        return f"signal {number}"


def tail(text: str, lines: int = 5, limit: int = 400) -> str:
    """The last ``lines`` non-blank lines of ``text``, joined with | and bounded."""
    kept = " | ".join(line.strip() for line in text[-20_000:].strip().splitlines()[-lines:]
                      if line.strip())
    return clean(kept if len(kept) <= limit else "..." + kept[-limit:], limit + 3)
