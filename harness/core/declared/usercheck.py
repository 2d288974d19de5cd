"""Checks users declare in ``[tool.harness.checks]``: a command run in every platform's image,
and the output it must print, as a regular expression that may name the platform.

    [tool.harness.checks.app-version]
    command = ["myapp", "--version"]      # or a string, run with `sh -c`
    expect = 'myapp 1\\.\\d+ linux/{goarch}'  # searched in stdout and stderr
    status = 0                            # the exit status expected (default 0)
    same = true                           # every platform prints the same (see sameness)

Placeholders stand for every name the platform table has for the platform, as a regex
alternation of escaped names: ``{dpkg}`` (``armhf``), ``{uname}`` (``armv7l``), ``{triple}``
(``armv7-unknown-linux-gnueabihf``), ``{goarch}`` (``arm``), ``{platform}``
(``linux/arm/v7``). Other braces are left to the regex (``\\d{2}``). The whole output is
searched, up to :data:`OUTPUT_CAP`; a match is bounded in time (:data:`MATCH_SECONDS`).
Patterns are read by the `regex` module (a pure matcher, Python's `re` syntax, with a timeout).
Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import regex

from harness.core.failures.errors import UsageError, check_known
from harness.core.platforms.table import PLATFORMS, Platform

PREFIX = "check:"  # a declared check's source name in the reports: check:NAME
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
KEYS = ("command", "expect", "status", "timeout", "same")
# A command's output is read up to this many bytes (the rest is drained and counted, never
# kept): memory stays bounded whatever an image prints, and a check that printed more says so.
OUTPUT_CAP = 64 << 20
OUTPUT_CAP_TEXT = "64 MiB"
# A pattern gets this long to match a check's whole output (at most OUTPUT_CAP); a plain
# pattern needs well under a second for that.
MATCH_SECONDS = 10.0

NAMES: dict[str, Callable[[Platform], tuple[str, ...]]] = {
    "dpkg": lambda p: p.dpkg_arches,
    "uname": lambda p: p.uname,
    "triple": lambda p: p.rust_triples,
    "goarch": lambda p: (p.architecture,),
    "platform": lambda p: (p.name,),
}


@dataclass(frozen=True)
class DeclaredCheck:
    name: str
    command: tuple[str, ...]  # exec form; a string in pyproject becomes ("sh", "-c", it)
    expect: str  # the template, placeholders not yet replaced
    status: int = 0
    timeout: float | None = None  # None: the run's --probe-timeout
    same: bool = False  # every platform prints the same (platform names aside)

    @property
    def source(self) -> str:
        return PREFIX + self.name

    @property
    def shown(self) -> str:
        """The command as a user wrote it, for messages."""
        if self.command[:2] == ("sh", "-c") and len(self.command) == 3:
            return self.command[2]
        return " ".join(self.command)


def expand(template: str, platform: Platform, extra: Mapping[str, tuple[str, ...]] = {}) -> str:
    """The regex for ``platform``: each placeholder an alternation of its escaped names (and
    of ``extra`` names for it, such as a host kernel's ``uname -m`` a quirk explains)."""

    def names(m: re.Match[str]) -> str:
        found = NAMES[m[1]](platform) + extra.get(m[1], ())
        return "(?:" + "|".join(re.escape(n) for n in dict.fromkeys(found)) + ")"

    return _PLACEHOLDER.sub(lambda m: names(m) if m[1] in NAMES else m[0], template)


class PatternTimeout(UsageError):
    """A check's pattern did not finish matching in :data:`MATCH_SECONDS`: the pattern's
    fault (catastrophic backtracking), so bad input, not a hung image."""


def matches(template: str, platform: Platform, output: str,
            extra: Mapping[str, tuple[str, ...]] = {}) -> bool:
    """Whether the pattern for ``platform`` is found anywhere in ``output``, bounded in time
    (the `regex` module's timeout: Python's `re` cannot be stopped)."""
    try:
        return regex.search(expand(template, platform, extra), output, regex.MULTILINE,
                            timeout=MATCH_SECONDS) is not None
    except TimeoutError:
        raise PatternTimeout(
            f"/{template}/ did not finish matching {len(output)} characters within "
            f"{MATCH_SECONDS:.0f} s", "rewrite the pattern without nested repetition, such "
            "as (a|aa)+ or (a+)+, or anchor it") from None


class Truncated(UsageError):
    """A pattern asked of more text than the harness reads (:data:`OUTPUT_CAP`): no answer,
    rather than one about the first part alone, where ``$``, ``\\Z`` and a lookahead see the
    cut as the end and a pattern that must not appear may be past it. The rule of declared
    checks and structure tests alike."""


def whole(dropped: int, patterns: Iterable[str], what: str, fix: str) -> None:
    """Raises :class:`Truncated` where ``dropped`` bytes of the text were not read and a
    non-empty pattern (or a comparison of the whole text) is asked of it."""
    if dropped and any(patterns):
        raise Truncated(f"{what} is {dropped} bytes longer than the {OUTPUT_CAP_TEXT} the "
                        "harness reads, so its patterns cannot be judged", fix)


def parse_pattern(expect: str, where: str, key: str = "expect") -> None:
    """A pattern with placeholders, checked: every placeholder known, and every platform's
    expansion a regular expression (not just the first platform's)."""
    unknown = [m[1] for m in _PLACEHOLDER.finditer(expect) if m[1] not in NAMES]
    if unknown:
        raise UsageError(f"{where}: unknown placeholder {{{unknown[0]}}} in {key}",
                         f"use {', '.join('{' + n + '}' for n in NAMES)}, or write \\{{ for a "
                         "literal brace")
    for platform in PLATFORMS:
        try:
            regex.compile(expand(expect, platform), regex.MULTILINE)
        except regex.error as exc:
            raise UsageError(f"{where}: {key} is not a regular expression: {exc}",
                             "fix the pattern (Python's re syntax)") from None


def parse(table: Any, where: str = "[tool.harness.checks]") -> tuple[DeclaredCheck, ...]:
    """The declared checks of a pyproject table, each checked: a bad one is a usage error
    naming the check and the fix, before anything is built."""
    if not isinstance(table, dict):
        raise UsageError(f"{where} is not a table", "write [tool.harness.checks.NAME] tables")
    return tuple(_one(name, spec, f"{where[:-1]}.{name}]") for name, spec in table.items())


def _one(name: str, spec: Any, where: str) -> DeclaredCheck:
    example = f'write {where} with command = ["prog", "--version"] and expect = "REGEX"'
    if not NAME.fullmatch(name):
        raise UsageError(f"check name {name!r} in {where} is not a plain name",
                         "use letters, digits and . _ - (it becomes a test id)")
    if not isinstance(spec, dict):
        raise UsageError(f"{where} is not a table", example)
    check_known(spec, KEYS, where)
    command = spec.get("command")
    if isinstance(command, str) and command.strip():
        argv: tuple[str, ...] = ("sh", "-c", command)
    elif isinstance(command, list) and command and all(isinstance(c, str) for c in command):
        argv = tuple(command)
    else:
        raise UsageError(f"{where}: command must be a string or a non-empty list of strings",
                         example)
    expect = spec.get("expect")
    if not isinstance(expect, str):  # "" is allowed: any output, the exit status alone counts
        raise UsageError(f"{where}: expect must be a regular expression (a string)", example)
    parse_pattern(expect, where)
    status = spec.get("status", 0)
    if not isinstance(status, int) or isinstance(status, bool) or not 0 <= status <= 255:
        raise UsageError(f"{where}: status must be an exit status (0-255), not {status!r}",
                         "write status = 0")
    timeout = spec.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                or not math.isfinite(timeout) or timeout <= 0):
        raise UsageError(f"{where}: timeout must be a number of seconds above 0",
                         "write timeout = 60")
    same = spec.get("same", False)
    if not isinstance(same, bool):
        raise UsageError(f"{where}: same must be true or false, not {same!r}",
                         "write same = true (every platform prints the same)")
    return DeclaredCheck(name, argv, expect, status, float(timeout) if timeout else None, same)
