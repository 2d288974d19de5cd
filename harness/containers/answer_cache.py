"""What an image answered, kept by everything the answer depends on (harness.machine.kept)
and read back on a rerun with nothing changed, instead of running the image again."""

from __future__ import annotations

import time
from pathlib import Path

from harness.containers.probe_result import KEPT, Probed, Span
from harness.core.answers.details import Timing
from harness.core.answers.observation import Observation
from harness.machine import files, kept


def read_answers(name: str, image: str, log_path: Path | None) -> Probed | None:
    """The answers kept under ``name`` (each marked ``read: kept``, timed as read now), or
    None: never kept, or of another shape (asked again)."""
    started = time.time()
    seen = kept_observations(name, kept.answers_dir(), "config")
    if seen is None:
        return None
    spans: dict[str, Span] = {}
    for o in seen:
        o.detail["read"] = KEPT
        # The kept file is report.json's shape: a part that was timed holds its start there;
        # the report's timeline shows this run's reading, not that run.
        if Timing.of(o.detail).started is not None:
            span = Span(started, round(time.time() - started, 3), KEPT)
            span.stamp(o)
            spans[o.source] = span
    if log_path is not None:
        with files.open_log(log_path) as fh:
            fh.write(f"answers read back: {image} ran before on this machine "
                     "as it would run now (the same engine, kernel, CPU, emulators and "
                     "options; --no-cache asks again)\n")
    return Probed(seen, spans)


def store(name: str, found: list[Observation]) -> None:
    """Keep ``found`` under ``name`` with each command's whole output, where every source
    answered (a machine that could not check is asked again)."""
    if all(o.error is None for o in found):
        kept.store(name, [{**o.to_dict(), "output": o.output} for o in found],
                   kept.answers_dir())


def kept_observations(name: str, where: Path, first: str) -> list[Observation] | None:
    """The observations kept under ``name`` in ``where``, the first of them ``first``'s; None
    when none are kept or the file is of another shape (asked again)."""
    found = kept.load(name, where)
    try:
        seen = [Observation.from_dict(d) for d in found or ()]
    except TypeError:
        return None
    return seen if seen and seen[0].source == first else None
