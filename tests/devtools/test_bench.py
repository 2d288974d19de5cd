"""The bench's own arithmetic: the schedule read from report.json's phases, and the table that
sets each platform's schedule beside plain buildx's build of it."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

from devtools import bench, bench_pairs, bench_peers
from devtools.bench_record import AptFetch, BenchRun, Cpu, CpuRuns, FirstPeer, NativeModules
from tests.factories import bench_run


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


def test_the_schedule_counts_from_the_commands_start_where_known() -> None:
    """Plain buildx's builds are counted from its command's start: the harness's are too, so
    that the time before its first build shows."""
    report = {"platforms": [
        {"platform": "linux/arm64", "phases": [phase("build", "12", "50.5"),
                                               phase("probe", "50.5", "58")]}]}
    began = datetime.fromisoformat(phase("build", "09.5", "09.5")["start"]).timestamp()
    assert bench.schedule(report, began) == {
        "linux/arm64": {"build": [2.5, 41.0], "probe": [41.0, 48.5]}}


SCHEDULE = {"linux/arm64": {"build": [0.0, 201.0], "probe": [201.0, 208.0]}}


def result(first_peer: FirstPeer | None = None, **measured: Any) -> BenchRun:
    return bench_run(first_peer, schedule=SCHEDULE, **measured)


def peer(buildx: float, ratio: float, floor: float | None = None,
         ends: dict[str, float] | None = None, fetch: AptFetch | None = None) -> FirstPeer:
    return FirstPeer(buildx, ends or {}, fetch or AptFetch({}, {}), ratio, floor)


def test_each_platforms_schedule_is_set_beside_plain_buildxs_build_of_it() -> None:
    lines = bench.render(result(peer(198.5, 1.069, ends={"linux/arm64": 197.9})))
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
    assert bench.measure_buildx_peer(tmp_path, ["linux/amd64"], tmp_path / "peer") is None
    assert not (tmp_path / "peer").exists()


# Lines of a real cold build of the Rust image (BuildKit's plain progress), and apt's longer
# forms of the same account.
ARM64_LOG = """\
#5 0.972 Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]
#5 18.83 Fetched 8841 kB in 18s (498 kB/s)
#5 52.70 Need to get 152 MB of archives.
#5 92.82 Fetched 152 MB in 38s (4001 kB/s)
#5 DONE 244.2s
"""


def test_apts_fetch_seconds_are_read_from_a_build_log() -> None:
    assert bench_pairs.fetched_seconds(ARM64_LOG) == 18 + 38
    assert bench_pairs.fetched_seconds("#5 99.1 Fetched 1,234 MB in 1min 5s (19.0 MB/s)\n") == 65
    assert bench_pairs.fetched_seconds("Fetched 2 GB in 1h 2min 3s (1 MB/s)\n") == 3723
    assert bench_pairs.fetched_seconds("Fetched 0 B in 0s (0 B/s)\n") == 0


def test_a_build_without_apt_fetches_has_none() -> None:
    """Every layer cached, or another package manager: no figure, not a zero."""
    log = "#5 CACHED\n#6 [2/3] RUN apk add gcc\n#6 DONE 3.1s\n"
    assert bench_pairs.fetched_seconds(log) is None


def test_each_sides_fetches_are_read_from_its_logs_and_shown_side_by_side(tmp_path: Path) -> None:
    (tmp_path / "linux-arm64-build.log").write_text(ARM64_LOG)
    (tmp_path / "linux-amd64-build.log").write_text("#5 CACHED\n")
    fetched = bench.fetch_seconds(tmp_path, ["linux/arm64", "linux/amd64", "linux/386"])
    assert fetched == {"linux/arm64": 56}
    lines = bench.render(result(peer(200.0, 1.0, fetch=AptFetch({"linux/arm64": 26}, fetched))))
    [arm] = [line for line in lines if "apt fetches linux/arm64" in line]
    assert arm.split()[-4:] == ["26", "/", "56", "s"]


def test_the_floor_adds_only_the_checks_cpu_that_plain_buildx_left_idle() -> None:
    # Plain buildx left 43 core-s idle; checks needing 63 core-s add 20 over 2 cores.
    assert bench_pairs.buildx_floor(313.4, 43.0, 63.0, 2) == 323.4
    # Checks that fit in the idle time add nothing: the floor is plain buildx itself.
    assert bench_pairs.buildx_floor(313.4, 43.0, 30.0, 2) == 313.4


def test_the_cpu_of_each_run_and_the_floor_are_shown_beside_the_ratio() -> None:
    lines = bench.render(result(
        peer(200.0, 1.1, 210.0),
        cpu=CpuRuns(side_by_side=Cpu(420.4, 20.0), buildx_peer=Cpu(370.0, 30.0),
                    warm_asked=Cpu(50.2, 10.0))))
    shown = "\n".join(lines)
    assert "CPU, plain buildx: busy / idle" in shown and "370 / 30 core-s" in shown
    assert "CPU, checks (every image asked again): busy / idle" in shown
    [floor] = [line for line in lines if "floor" in line]
    assert "210.0s" in floor and "ratio 1.050" in floor


def test_a_floor_over_the_target_says_the_target_is_out_of_reach_here() -> None:
    cpu = CpuRuns(None, buildx_peer=Cpu(370.0, 30.0), warm_asked=Cpu(50.2, 10.0))
    over = bench.render(result(peer(200.0, 1.1, 210.0), cpu=cpu))
    assert any("out of reach on this machine" in line for line in over)
    # Checks that fit in plain buildx's idle time: the target is the harness's to meet.
    fits = bench.render(result(peer(200.0, 1.1, 200.0), cpu=cpu))
    assert not any("out of reach" in line for line in fits)


def test_without_cpu_figures_no_floor_is_claimed() -> None:
    lines = bench.render(result(peer(200.0, 1.1)))
    assert not any("CPU" in line or "floor" in line for line in lines)


def _platform(name: str, detail: dict[str, Any] | None) -> dict[str, Any]:
    observed = {} if detail is None else {"native-modules": {"detail": detail}}
    return {"platform": name, "observed": observed}


def test_the_native_modules_pass_is_read_from_the_fixture_runs_report() -> None:
    """Each platform's modules found, loaded and the seconds the pass took; a platform whose
    run left the source out has no figure, not a zero."""
    report = {"platforms": [
        _platform("linux/amd64", {"count": 14, "loaded": 12, "seconds": 1.83, "cpu": "qemu64"}),
        _platform("linux/arm64", None)]}
    assert bench_peers.native_figures(report) == {
        "linux/amd64": NativeModules(count=14, loaded=12, seconds=1.83),
        "linux/arm64": NativeModules(count=None, loaded=None, seconds=None)}


def test_the_native_modules_fixture_has_modules_to_load_on_the_platforms_it_is_run_for() -> None:
    """The bench's fixture is the one the engine tests prove loads everywhere they check."""
    dockerfile = (bench_peers.NATIVE_FIXTURE / "Dockerfile").read_text()
    assert "python3-numpy" in dockerfile
    assert set(bench_peers.NATIVE_PLATFORMS) == {"linux/amd64", "linux/arm64"}


def test_each_platforms_native_modules_pass_is_a_row() -> None:
    run = dataclasses.replace(result(), native_modules={
        "linux/arm64": NativeModules(count=14, loaded=12, seconds=9.42)})
    [row] = [line for line in bench.render(run) if line.startswith("native modules")]
    assert row.startswith("native modules linux/arm64 (12 of 14 loaded)")
    assert row.endswith("9.42s")
    assert not [line for line in bench.render(result()) if line.startswith("native modules")]
