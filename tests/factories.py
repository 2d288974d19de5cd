"""Shared factories of the harness's own tests: results, reports and readers of them.

Test modules import these, never each other.
"""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser
from typing import Any

from devtools.bench_record import BenchRun, CpuRuns, FirstPeer, Measured, Pair
from harness.core.answers import observation as obs
from harness.core.outcomes import RunMode, Verdict
from harness.core.results.finding import Finding
from harness.core.results.platform_result import BuildInfo, ImageInfo, PlatformResult, ProbeTimes

HOST = {"arch": "x86_64", "engine_version": "20.10.24", "api_version": "1.41",
        "buildx": "0.13.1", "builder": "buildx"}
QUIRK_FINDING = Finding("uname", "quirk", "uname -m says x86_64 for linux/386", "read dpkg")


def result(platform: str, verdict: str, findings: list[Finding] | None = None) -> PlatformResult:
    return PlatformResult(
        platform, verdict, findings or [], [obs.dpkg("i386\n")],
        image=ImageInfo("sha256:abc", f"harness/rust:{platform.replace('/', '-')}"),
        build=BuildInfo(True, "buildx", 64.2, "logs/x.log"),
        run=RunMode("native"), times=ProbeTimes(1.2, 3.4))


MIX = [result("linux/amd64", Verdict.PASS),
       result("linux/386", Verdict.QUIRK, [QUIRK_FINDING]),
       result("linux/arm64", Verdict.FAIL,
              [Finding("dpkg", "mismatch", "dpkg says amd64", "fix FROM")]),
       result("linux/arm/v7", Verdict.ERROR, [Finding("build", "error", "engine lost", "retry")])]


class Page(HTMLParser):
    """What a reader of the page gets: elements by attribute, the text, any script."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == tag
                and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]



# A bench.json record's measured figures: a run with no one-platform runs.
BENCH_MEASURED = Measured(
    platforms=["linux/arm64"], cores=2, alone={}, side_by_side=212.1, cpu=CpuRuns(None),
    warm=8.1, answers_read_warm=[], warm_asked=20.0, probe_seconds={}, hello_seconds={},
    audit_seconds_side_by_side={}, audit_seconds={}, audit_read_warm={}, baseline_seconds={},
    audit_files={}, verdicts={}, schedule={})


def bench_run(first_peer: FirstPeer | None = None, pairs: list[Pair] | None = None,
              **measured: Any) -> BenchRun:
    """A bench.json record (devtools.bench_record), its measured figures overridden."""
    return BenchRun(measured=dataclasses.replace(BENCH_MEASURED, **measured),
                    first_peer=first_peer, pairs=pairs)
