"""One unit of a run's work: a platform's build and checks, of one Bake target or of the
run's one Dockerfile. The key of the pipeline, the status files, the results and the
scheduling; without ``--bake`` (``target`` None) it is named as its platform, so such a run's
test ids, files and report are those of a run of platforms alone. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.core import sinks
from harness.core.platforms.table import Platform

LISTED = 12  # units named in the run's first line; the rest counted


@dataclass(frozen=True)
class Unit:
    target: str | None  # the Bake target's name; None: the run's one Dockerfile
    platform: Platform

    @property
    def name(self) -> str:
        """As test ids and reports show it: ``app-linux/arm64``, or ``linux/arm64``."""
        return unit_name(self.target, self.platform.name)

    @property
    def slug(self) -> str:
        """As file names and labels take it: ``app-linux-arm64``, or ``linux-arm64``. Target
        names hold no ``/`` and a platform's slug starts with its OS, so two units never
        share one (tests/core/test_units.py)."""
        return f"{self.target}-{self.platform.slug}" if self.target else self.platform.slug

    def __str__(self) -> str:
        return self.name


def unit_name(target: str | None, platform: str) -> str:
    """A unit's name from its target and its platform's name (see Unit.name)."""
    return f"{target}-{platform}" if target else platform


def units_of(targets: Iterable[tuple[str | None, Iterable[Platform]]]) -> tuple[Unit, ...]:
    """Every (target, platform), target by target in the given order, each once."""
    found: dict[Unit, None] = {}
    for target, platforms in targets:
        for platform in platforms:
            found.setdefault(Unit(target, platform))
    return tuple(found)


def unit_of(name: str, units: Iterable[Unit]) -> Unit | None:
    """The unit a test id ends with (``…[app-linux/arm64]``, ``…[case-linux/arm64]``), the
    longest name first, so ``app-linux/arm64`` is never taken for ``linux/arm64``."""
    for unit in sorted(units, key=lambda u: -len(u.name)):
        if name.endswith((f"[{unit.name}]", f"-{unit.name}]")) or name == unit.name:
            return unit
    return None


def listing(units: Iterable[Unit]) -> str:
    """The one line a run of Bake targets starts with: its units, named (escaped, bounded:
    target names come from the definition)."""
    units = list(units)
    names = ", ".join(sinks.terminal(u.name, 120) for u in units[:LISTED])
    more = f", and {len(units) - LISTED} more" if len(units) > LISTED else ""
    targets = len(dict.fromkeys(u.target for u in units))
    return (f"--bake: {len(units)} units of work ({targets} target"
            f"{'s' if targets != 1 else ''} by platform): {names}{more}")
