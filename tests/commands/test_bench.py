"""The bench's own arithmetic: the schedule read from report.json's phases, and the table that
sets each platform's schedule beside plain buildx's build of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.commands import bench


def phase(name: str, start: str, end: str) -> dict[str, str]:
    return {"name": name, "start": f"2026-11-30T20:00:{start}+00:00",
            "end": f"2026-11-30T20:00:{end}+00:00"}


def test_the_schedule_counts_from_the_first_phase_and_shows_only_the_scheduled_ones() -> None:
    report = {"platforms": [
        {"platform": "linux/amd64", "phases": [phase("build", "10", "40"),
                                               phase("probe", "40", "45"),
                                               phase("report", "45", "46")]},
        {"platform": "linux/arm64", "phases": [phase("build", "12", "50.5"),
                                               phase("probe", "50.5", "58")]},
    ]}
    assert bench.schedule(report) == {
        "linux/amd64": {"build": [0.0, 30.0], "probe": [30.0, 35.0]},
        "linux/arm64": {"build": [2.0, 40.5], "probe": [40.5, 48.0]},
    }


def result(**extra: Any) -> dict[str, Any]:
    return {"alone": {}, "side_by_side": 212.1, "warm": 8.1, "probe_seconds": {},
            "schedule": {"linux/arm64": {"build": [0.0, 201.0], "probe": [201.0, 208.0]}},
            **extra}


def test_each_platforms_schedule_is_set_beside_plain_buildxs_build_of_it() -> None:
    lines = bench.render(result(buildx_peer=198.5, buildx_ratio=1.069,
                                buildx_peer_ends={"linux/arm64": 197.9}))
    [arm] = [line for line in lines if "schedule linux/arm64" in line]
    assert arm.endswith("build 0-201, probe 201-208 (plain buildx built it 0-198)")
    [ratio] = [line for line in lines if "ratio harness / plain buildx" in line]
    assert "1.069" in ratio and f"<= {bench.TARGET_BUILDX_RATIO}" in ratio


def test_without_the_peer_the_schedule_stands_alone() -> None:
    lines = bench.render(result())
    [arm] = [line for line in lines if "schedule linux/arm64" in line]
    assert arm.endswith("build 0-201, probe 201-208")
    assert not any("plain buildx" in line for line in lines)


def test_a_run_not_built_with_buildx_has_no_buildx_peer(tmp_path: Path) -> None:
    """The classic builder's log: there is no buildx command line to run again."""
    (tmp_path / "linux-amd64-build.log").write_text("$ docker build --platform linux/amd64 .\n")
    assert bench.measure_buildx_peer(tmp_path, ["linux/amd64"]) is None
