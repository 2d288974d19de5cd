"""Where publish writes each Bake target's index, and under which tags. Pure.

A run of several targets is published as one index per target, never one index of all:
each target's platforms are merged under that target's own tags. The rule, kept simple:

- a target whose definition has ``tags`` (metadata-action's bake file included, as buildx
  resolved it) is published under those: one index per repository they name, tagged with
  the tags of that repository;
- a target without is published to each ``--registry HOST/REPO`` as ``HOST/REPO/TARGET``
  (its name, lower-cased, as the last part of the repository), under ``--tag``/
  ``--tag-template``'s tags.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.core import sinks
from harness.core.failures.errors import UsageError
from harness.core.oci.reference import parse_reference


@dataclass(frozen=True)
class Destination:
    """One index to write: its repository and the tags it goes under."""

    host: str
    repository: str
    tags: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.host}/{self.repository}"


def of_target(target: str, definition_tags: Iterable[str],
              registries: Iterable[tuple[str, str]], tags: Iterable[str]
              ) -> tuple[Destination, ...]:
    """The indexes ``target``'s platforms are merged into (see the module's rule).
    ``registries``: each ``--registry`` as (host, repository); ``tags``: the run's tags.
    Bad input (one line) where a definition's tag is no registry reference or the target
    has no destination."""
    shown = sinks.terminal(target, 80)
    found: dict[tuple[str, str], list[str]] = {}
    for text in definition_tags:
        try:
            ref = parse_reference(text)
        except UsageError as exc:
            raise UsageError(f"Bake target {shown}'s tag {sinks.terminal(text, 200)!r} names "
                             "no registry host", "write HOST/REPO:TAG in the definition's "
                             "tags, or drop them and pass --registry HOST/REPO") from exc
        if ref.digest:
            raise UsageError(f"Bake target {shown}'s tag {sinks.terminal(text, 200)!r} names "
                             "a digest", "write HOST/REPO:TAG in the definition's tags")
        names = found.setdefault((ref.host, ref.repository), [])
        if (ref.tag or "latest") not in names:  # no tag: docker's latest
            names.append(ref.tag or "latest")
    if found:
        return tuple(Destination(h, r, tuple(t)) for (h, r), t in found.items())
    given = list(registries)
    if not given:
        raise UsageError(f"Bake target {shown} has no tags in its definition and no "
                         "--registry is given", "give the target tags, or pass --registry "
                         "HOST/REPO (the target goes to HOST/REPO/TARGET)")
    out = []
    for host, repository in given:
        name = f"{host}/{repository}/{target.lower()}"
        try:
            ref = parse_reference(name)
        except UsageError as exc:
            raise UsageError(f"Bake target {shown} makes no repository name under "
                             f"{host}/{repository}", "give the target tags in its "
                             "definition") from exc
        out.append(Destination(ref.host, ref.repository, tuple(tags)))
    return tuple(out)
