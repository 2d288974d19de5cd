"""What an image answered, kept by everything the answer depends on (harness.machine.kept)
and read back on a rerun with nothing changed, instead of running the image again."""

from __future__ import annotations

import time
from pathlib import Path

from harness.core.observation import Observation
from harness.machine import files, kept


def read_answers(name: str, image: str, log_path: Path | None) -> list[Observation] | None:
    """The answers kept under ``name`` (each marked ``read: kept``, timed as read now), or
    None: never kept, or of another shape (asked again)."""
    started = time.time()
    seen = kept_observations(name, kept.answers_dir(), "config")
    if seen is None:
        return None
    for o in seen:
        o.detail["read"] = "kept"
        if "started" in o.detail:  # the report's timeline: this run's reading, not that run
            o.detail.update(started=started, seconds=round(time.time() - started, 3))
    if log_path is not None:
        with files.open_log(log_path) as fh:
            fh.write(f"answers read back: {image} ran before on this machine "
                     "as it would run now (the same engine, kernel, CPU, emulators and "
                     "options; --no-cache asks again)\n")
    return seen


def kept_observations(name: str, where: Path, first: str) -> list[Observation] | None:
    """The observations kept under ``name`` in ``where``, the first of them ``first``'s; None
    when none are kept or the file is of another shape (asked again)."""
    found = kept.load(name, where)
    try:
        seen = [Observation.from_dict(d) for d in found or ()]
    except TypeError:
        return None
    return seen if seen and seen[0].source == first else None
