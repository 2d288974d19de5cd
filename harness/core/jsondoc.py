"""The one reader of JSON the harness did not just write itself: bounded before it is parsed.

A kept answer, a report handed to ``multiarch-harness report``, a registry's manifest or
index: each is data from outside, and Python's ``json`` module has no limit of its own. A
document nested 100k deep raises RecursionError (a harness bug's exit status, or pytest's
INTERNALERROR), one of gigabytes takes the memory, and ``NaN``, ``Infinity`` or ``1e999``
(which ``json`` reads as inf) are no JSON at all (RFC 8259) and would be written back as
such. :func:`parse` checks the size, then the depth by one linear scan of the brackets
outside strings (no recursion, so any depth is measured), then parses with every
non-finite number refused. What is off raises :class:`Exceeded` (a limit, and which) or
another ValueError (not JSON): the caller decides what that is (bad input, a registry's
fault, a kept answer asked again). Pure.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# A JSON object as the harness reads and writes it: the one name of a document at its edge
# (report.json, a kept answer, a registry's manifest), typed further where it is read.
JSON = dict[str, Any]

MAX_DEPTH = 64  # nested arrays and objects: the harness's own documents need under 12

# A string (possessive: no backtracking, linear on any input), a bracket, or a quote that
# opens a string never closed (the rest is inside it; json refuses it below).
_TOKENS = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]|"', re.DOTALL)


class Exceeded(ValueError):
    """A document over a limit: ``limit`` is ``"size"`` (bytes) or ``"depth"`` (nesting),
    ``allowed`` its value."""

    def __init__(self, limit: str, allowed: int) -> None:
        what = f"{allowed} bytes" if limit == "size" else f"{allowed} levels of nesting"
        super().__init__(f"more than {what}")
        self.limit = limit
        self.allowed = allowed


def depth(text: str, stop: int | None = None) -> int:
    """How deep ``text``'s arrays and objects nest (brackets in strings do not count); with
    ``stop``, the scan ends as soon as the depth exceeds it."""
    level = deepest = 0
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token in "[{":
            level += 1
            if level > deepest:
                deepest = level
                if stop is not None and deepest > stop:
                    break
        elif token in "]}":
            level -= 1
        elif token == '"':
            break  # an unterminated string: nothing after it is structure
    return deepest


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def parse(data: str | bytes, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``data`` (UTF-8 when bytes), once it is at most ``max_bytes`` long
    and nested at most ``max_depth`` deep; :class:`Exceeded` or ValueError if not."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise Exceeded("size", max_bytes)
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if depth(text, max_depth) > max_depth:
        raise Exceeded("depth", max_depth)
    return json.loads(text, parse_float=_finite, parse_constant=_constant)


def canonical(value: Any) -> str:
    """``value`` as one canonical JSON text (sorted keys, no spaces, no non-finite number):
    what a checksum of a document's content is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
