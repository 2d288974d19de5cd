"""Declared checks with ``same = true``: every platform must print the same.

Each platform is judged against its own name everywhere else; here a check's answers are
compared with each other, once each platform's own names (every name the platform table has
for it: ``arm64``, ``aarch64``, ``aarch64-unknown-linux-gnu``, ``linux/arm64``, …) are replaced
by one placeholder, ``{arch}``. So ``myapp 1.4 (linux/arm64)`` and ``myapp 1.4 (linux/amd64)``
agree, and a platform that ships last release's binary (``myapp 1.3``) does not. The odd
platform out fails, naming its answer and the others'; where no answer is shared by more
platforms than any other (two platforms that disagree), every platform fails, each naming
the other answers. Pure.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from harness.core import sinks
from harness.core.declared.usercheck import NAMES, PREFIX
from harness.core.platforms.table import Platform

PLACEHOLDER = "{arch}"
SHOWN = 120  # characters of an answer kept to name it in a finding


def normalise(output: str, platform: Platform) -> str:
    """``output`` with the platform's names replaced by :data:`PLACEHOLDER` (longest first,
    whole words only: ``arm`` in ``alarm`` stays) and trailing blanks dropped."""
    names = sorted({n for names in NAMES.values() for n in names(platform)}, key=len,
                   reverse=True)
    pattern = r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z0-9])"
    return re.sub(pattern, PLACEHOLDER, output).rstrip()


@dataclass(frozen=True)
class Answer:
    """What one platform's check printed, normalised: a digest to compare, and its start to
    show (both kept in report.json, so merged reports are compared too)."""

    digest: str
    shown: str

    @classmethod
    def of(cls, output: str, platform: Platform) -> Answer:
        text = normalise(output, platform)
        return cls(hashlib.sha256(text.encode(errors="replace")).hexdigest(),
                   text[:SHOWN] + ("..." if len(text) > SHOWN else ""))


CAUSE = "not-same"  # the findings' cause (Finding.cause): they are told by it, not by FIX
FIX = ("make every platform print the same (the platform's names aside): rebuild the odd "
       "platform from the same sources, or drop `same = true` from the check")


@dataclass(frozen=True)
class Odd:
    """A platform whose answer to a check is not the others' (a mismatch finding)."""

    platform: str
    source: str
    message: str
    fix: str = FIX
    cause: str = CAUSE


def judge(answers: Mapping[str, Mapping[str, Answer]]) -> list[Odd]:
    """``answers``: check source -> {platform: answer}, for the platforms where the check
    answered. The platforms that are out, with what to say of each."""
    found: list[Odd] = []
    for source, by_platform in sorted(answers.items()):
        groups: dict[str, list[str]] = {}
        for platform, answer in sorted(by_platform.items()):
            groups.setdefault(answer.digest, []).append(platform)
        if len(groups) < 2:
            continue
        sizes = sorted((len(g) for g in groups.values()), reverse=True)
        majority = (max(groups, key=lambda d: len(groups[d])) if sizes[0] > sizes[1]
                    else None)
        name = source.removeprefix(PREFIX)
        for digest, platforms in groups.items():
            if digest == majority:
                continue
            shown = by_platform[platforms[0]].shown
            others = "; ".join(
                f"{', '.join(ps)} printed {_quoted(by_platform[ps[0]].shown)}"
                for d, ps in groups.items() if d != digest)
            found.extend(Odd(platform, source,
                             f"{platform}: check {name} printed {_quoted(shown)}, not what "
                             f"the others did ({others}); `same = true`, platform names read "
                             f"as {PLACEHOLDER}") for platform in platforms)
    return found


def _quoted(text: str) -> str:
    return "'" + sinks.visible(text) + "'"
