"""Wall-clock times as the reports write them (ISO 8601, UTC, milliseconds), both ways.
Pure."""

from __future__ import annotations

from datetime import UTC, datetime


def stamp(epoch: float) -> str:
    """A time (seconds since the epoch) as report.json writes it."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def epoch(text: str) -> float:
    """A time report.json wrote, as seconds since the epoch."""
    return datetime.fromisoformat(text).timestamp()
