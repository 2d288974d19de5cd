"""What a probe gives back: every source's observation, and the timed parts of the probe
(the hello world, the audit, the baseline-CPU run, the native modules' loads) as typed spans,
which the pipeline reads for the report's timeline and times. Each span is also written into
its observation's ``detail``, once and only here (``Span.stamp``): report.json shows it there,
as it always has."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from harness.core.answers.details import Timing
from harness.core.answers.observation import Observation

# The sources a probe times, in the report timeline's words.
TIMED: Mapping[str, str] = MappingProxyType({
    "hello": "hello", "elf-audit": "audit", "baseline-cpu": "baseline",
    "native-modules": "native"})

KEPT = "kept"  # a span's ``read``: its answer read back (harness.machine.kept), not asked


@dataclass(frozen=True)
class Span:
    """One timed part of a probe: when it started on the wall clock (``time.time()``, the
    report's timeline), how long it took in seconds as report.json shows it (rounded), and
    where its answer was read (``"in place"``, ``"export"``, KEPT) where that is told."""

    started: float
    seconds: float
    read: str | None = None

    @property
    def end(self) -> float:
        return self.started + self.seconds

    def stamp(self, seen: Observation) -> Observation:
        """``seen`` with this span in its detail, as report.json keeps it."""
        Timing(self.seconds, self.started, self.read).stamp(seen.detail)
        return seen


@dataclass(frozen=True)
class Timed:
    """One job's observations, and its span where it ran (a job that failed, or had nothing
    to do, has none)."""

    found: list[Observation]
    span: Span | None = None


@dataclass(frozen=True)
class Probed:
    """Every source's observation of one probe, and its spans by source (of TIMED)."""

    observations: list[Observation]
    spans: Mapping[str, Span] = field(default_factory=dict)

    @property
    def read_back(self) -> bool:
        """Every answer was read back from a run before (each says so): nothing was asked."""
        return bool(self.observations) and all(Timing.of(o.detail).read == KEPT
                                               for o in self.observations)

    def without(self, skipped: Callable[[str], object]) -> dict[str, Span]:
        """The spans of the sources the report keeps: one ``skipped`` names (an override's
        skip: reported as skipped, its time the probe's own) is left out."""
        return {s: span for s, span in self.spans.items() if not skipped(s)}
