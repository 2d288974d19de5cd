"""A build's steps, as the builder names them in its output, timed as the lines arrive.
Pure: the caller gives each line with the time it was read.

BuildKit's plain progress (``--progress plain``) opens a step with ``#5 [2/4] RUN ...`` and
closes it with ``#5 DONE 12.3s`` (or CACHED, ERROR, CANCELED); the classic builder prints
``Step 2/4 : RUN ...`` and the next step starts where the last one ends. Internal steps
(loading the Dockerfile, the context, metadata) are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.core.sinks import visible

_BUILDKIT_STEP = re.compile(r"^#(\d+) \[([^\]]*/[^\]]*)\] (.+)$")
_BUILDKIT_LINE = re.compile(r"^#(\d+) \S")  # any other line of a step
_BUILDKIT_END = re.compile(r"^#(\d+) (DONE|CACHED|ERROR|CANCELED)\b")
_CLASSIC_STEP = re.compile(r"^Step (\d+/\d+) : (.+)$")
# A blob fetched for a step: what a step taken from a remote cache shows instead of CACHED
# when its result is needed (the last step, fetched after the export has begun).
_BLOB = re.compile(r"^#(\d+) sha256:[0-9a-f]{64} ")
LABEL_LIMIT = 80


@dataclass
class Step:
    label: str
    start: float
    end: float | None = None
    cached: bool = False  # BuildKit said CACHED: taken from the build cache, not run


class StepClock:
    """Feed it every line of a build's output; :meth:`steps` gives the steps seen."""

    def __init__(self) -> None:
        self._steps: dict[str, Step] = {}
        self._classic: Step | None = None
        self._fetched: set[str] = set()  # steps that fetched blobs
        self._said: set[str] = set()  # steps that printed anything else

    def line(self, text: str, now: float) -> None:
        text = text.rstrip()
        if m := _BUILDKIT_STEP.match(text):
            if m.group(1) not in self._steps:
                self._steps[m.group(1)] = Step(_label(f"[{m.group(2)}] {m.group(3)}"), now)
        elif m := _BUILDKIT_END.match(text):
            step = self._steps.get(m.group(1))
            if step is not None and step.end is None:
                step.end = now
                # CACHED, or a RUN/COPY step that only fetched its result's blobs from the
                # cache and ran nothing (a FROM fetches its base's: that is no cache hit).
                step.cached = m.group(2) == "CACHED" or (
                    m.group(2) == "DONE" and m.group(1) in self._fetched
                    and m.group(1) not in self._said and " FROM " not in step.label)
        elif m := _BLOB.match(text):
            self._fetched.add(m.group(1))
        elif m := _BUILDKIT_LINE.match(text):
            self._said.add(m.group(1))
        elif m := _CLASSIC_STEP.match(text):
            if self._classic is not None:
                self._classic.end = now
            self._classic = Step(_label(f"[{m.group(1)}] {m.group(2)}"), now)
            self._steps[f"classic-{len(self._steps)}"] = self._classic

    def steps(self, end: float) -> list[Step]:
        """The steps in the order they started; one still open ends at ``end``."""
        return [Step(s.label, s.start, s.end if s.end is not None else end, s.cached)
                for s in sorted(self._steps.values(), key=lambda s: s.start)]


def _label(text: str) -> str:
    text = visible(" ".join(text.split()))
    return text if len(text) <= LABEL_LIMIT else text[:LABEL_LIMIT - 1] + "…"
