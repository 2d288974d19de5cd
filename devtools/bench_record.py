"""bench.json's record, typed: what one ``nox -s bench`` measured, built as frozen dataclasses
and serialised once (:func:`to_json`), with the keys and values bench.json has always had, so
that its readers (the history, ``devtools.docs``) read it as before.

A field marked ``OMIT`` is left out of bench.json while it is None (a measure the run
did not take: the one-platform runs under ``--skip-alone``, the routed run without
``--routed-engine``); a field marked ``FLAT`` has its own fields written at its parent's
level (bench.json is one flat object of figures, as it always was).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TypeAlias

Json: TypeAlias = "dict[str, Json] | list[Json] | str | int | float | bool | None"
# Each platform's phases, [start, end] in seconds from the command's start.
Schedule: TypeAlias = dict[str, dict[str, list[float]]]


# Field metadata: left out of bench.json while None (the measure was not taken); and, flat,
# its own fields written at its parent's level.
OMIT = {"optional": True}
FLAT = {"optional": True, "flat": True}


def to_json(value: object) -> Json:
    """The record as bench.json's JSON: dataclasses as objects (optional fields that are None
    left out, flat ones merged into their parent), tuples as arrays."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Json] = {}
        for f in dataclasses.fields(value):
            got = getattr(value, f.name)
            if got is None and f.metadata.get("optional"):
                continue
            shown = to_json(got)
            if f.metadata.get("flat") and isinstance(shown, dict):
                out.update(shown)
            else:
                out[f.name] = shown
        return out
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"bench.json holds no {type(value).__name__}")


@dataclass(frozen=True)
class Cpu:
    """The machine's core-seconds busy and idle over a block."""

    busy: float
    idle: float


@dataclass(frozen=True)
class Pair:
    """One pair: a cold harness run, then plain buildx and the checks by hand (seconds)."""

    harness: float
    buildx: float
    floor: float | None
    by_hand: float | None

    @classmethod
    def read(cls, data: dict[str, object]) -> Pair:
        """A pair as bench.json and the history keep it (their JSON)."""

        def seconds(key: str) -> float | None:
            got = data.get(key)
            return None if got is None else float(str(got))

        harness, buildx = seconds("harness"), seconds("buildx")
        if harness is None or buildx is None:
            raise ValueError(f"a pair without its harness or plain buildx seconds: {data!r:.200}")
        return cls(harness, buildx, seconds("floor"), seconds("by_hand"))


@dataclass(frozen=True)
class CpuRuns:
    """The CPU over the timed runs (None off Linux)."""

    side_by_side: Cpu | None
    warm_asked: Cpu | None = None
    buildx_peer: Cpu | None = field(default=None, metadata=OMIT)


@dataclass(frozen=True, kw_only=True)  # by name: its fields in bench.json's order
class Measured:
    """The harness's own runs: alone, side by side, warm, asked again (``bench.measure``)."""

    platforms: list[str]
    cores: int
    alone: dict[str, float]
    side_by_side: float
    cpu: CpuRuns
    # max(longest alone, sum alone / cores) and the side-by-side run's ratio to it.
    ideal: float | None = field(default=None, metadata=OMIT)
    ratio: float | None = field(default=None, metadata=OMIT)
    warm: float
    answers_read_warm: list[str]
    warm_asked: float
    probe_seconds: dict[str, float | None]
    hello_seconds: dict[str, float | None]
    audit_seconds_side_by_side: dict[str, float | None]
    audit_seconds: dict[str, float | None]
    audit_read_warm: dict[str, str | None]
    baseline_seconds: dict[str, float | None]
    audit_files: dict[str, int | None]
    verdicts: dict[str, str]
    schedule: Schedule


@dataclass(frozen=True)
class Peer:
    """Plain buildx's builds of the platforms at once, then the checks by hand."""

    wall: float
    ends: dict[str, float]  # when each platform's build ended, from its start
    cpu: Cpu | None
    fetch: dict[str, int]  # apt's fetch seconds per platform
    by_hand: float | None = None


@dataclass(frozen=True)
class AptFetch:
    harness: dict[str, int]
    buildx_peer: dict[str, int]


@dataclass(frozen=True)
class FirstPeer:
    """The first pair's peer figures, as bench.json has kept them since before the pairs."""

    buildx_peer: float
    buildx_peer_ends: dict[str, float]
    apt_fetch: AptFetch
    buildx_ratio: float
    buildx_floor: float | None = field(default=None, metadata=OMIT)


@dataclass(frozen=True)
class BuildsRun:
    wall: float
    schedule: Schedule


@dataclass(frozen=True)
class AuditPeer:
    """The audit by hand (export + file) of one platform's image."""

    seconds: float
    elf_files: int


@dataclass(frozen=True)
class AuditDepth:
    """The harness's audit of one image alone: the ELF part, with linkage and isa, ratio."""

    elf: float
    deep: float
    ratio: float


@dataclass(frozen=True)
class Publish:
    publish_first_s: float
    publish_first_blobs: int
    publish_second_s: float
    publish_second_blobs: int
    merge_s: float
    docker_push_s: float
    push_ratio: float


@dataclass(frozen=True)
class NativeModules:
    """The native-modules pass of one platform of the fixture image (its detail in
    report.json): the modules found, those loaded, and the seconds the pass took."""

    count: int | None
    loaded: int | None
    seconds: float | None


@dataclass(frozen=True)
class CacheRun:
    """A new engine's build from nothing, without and with an earlier run's cache."""

    engine: str
    version: str
    without_s: float
    with_s: float
    ratio: float
    steps_cached: int
    steps_run: int
    verdicts: dict[str, str]
    verdicts_without: dict[str, str]


@dataclass(frozen=True)
class CacheOnly:
    """bench-cache.json, of ``--cache-only``."""

    platforms: list[str]
    cache: list[CacheRun]


@dataclass(frozen=True)
class BenchRun:
    """bench.json: everything one bench measured."""

    measured: Measured = field(metadata=FLAT)
    first_peer: FirstPeer | None = field(default=None, metadata=FLAT)
    pairs: list[Pair] | None = field(default=None, metadata=OMIT)
    # Each ratio's median and spread over the pairs (floor_ratio_median, ...), flat.
    summary: dict[str, float] | None = field(default=None, metadata=FLAT)
    by_builds: dict[str, BuildsRun] | None = field(default=None, metadata=OMIT)
    routed: float | None = field(default=None, metadata=OMIT)
    routed_ratio: float | None = field(default=None, metadata=OMIT)
    audit_peer: dict[str, AuditPeer] = field(default_factory=dict)
    audit_depth: dict[str, AuditDepth] = field(default_factory=dict)
    publish: Publish | None = field(default=None, metadata=OMIT)
    # The native-modules pass on a fixture image that has some (the flagship has none).
    native_modules: dict[str, NativeModules] | None = field(default=None, metadata=OMIT)
    cache: list[CacheRun] | None = field(default=None, metadata=OMIT)
    build_cache_growth_bytes: int | None = field(default=None, metadata=OMIT)
