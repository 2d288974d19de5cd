"""bench.json's typed record: serialised once, with the keys and values bench.json has always
had (the history and its generated page read them), a measure not taken left out."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devtools import bench_pairs
from devtools.bench_record import (
    AptFetch,
    AuditDepth,
    AuditPeer,
    BenchRun,
    BuildsRun,
    CacheOnly,
    CacheRun,
    Cpu,
    CpuRuns,
    FirstPeer,
    NativeModules,
    Pair,
    Publish,
    to_json,
)
from tests.factories import BENCH_MEASURED

SCHEDULE = {"linux/arm64": {"build": [0.0, 201.0], "probe": [201.0, 208.0]}}
PAIRS = [Pair(240.0, 220.0, 230.0, 20.0), Pair(250.0, 200.0, 210.0, 30.0)]
CACHE = CacheRun("unix:///e.sock", "26.1.5", 300.0, 60.0, 0.2, 40, 2, {"linux/arm64": "pass"},
                 {"linux/arm64": "pass"})

# Every key a full bench run has written since the pairs (run 28), in bench.json's order,
# with the values the record above stands for.
FULL = {
    "platforms": ["linux/arm64"], "cores": 2, "alone": {"linux/arm64": 150.0},
    "side_by_side": 240.0,
    "cpu": {"side_by_side": {"busy": 420.4, "idle": 20.0},
            "warm_asked": {"busy": 50.2, "idle": 10.0},
            "buildx_peer": {"busy": 370.0, "idle": 30.0}},
    "ideal": 150.0, "ratio": 1.6, "warm": 8.1, "answers_read_warm": ["kept"], "warm_asked": 20.0,
    "probe_seconds": {"linux/arm64": 1.2}, "hello_seconds": {"linux/arm64": 7.3},
    "audit_seconds_side_by_side": {"linux/arm64": 1.4}, "audit_seconds": {"linux/arm64": None},
    "audit_read_warm": {"linux/arm64": "kept"}, "baseline_seconds": {"linux/arm64": 0.9},
    "audit_files": {"linux/arm64": 812}, "verdicts": {"linux/arm64": "pass"},
    "schedule": SCHEDULE,
    "buildx_peer": 220.0, "buildx_peer_ends": {"linux/arm64": 219.0},
    "apt_fetch": {"harness": {"linux/arm64": 26}, "buildx_peer": {"linux/arm64": 56}},
    "buildx_ratio": 1.091, "buildx_floor": 230.0,
    "pairs": [{"harness": 240.0, "buildx": 220.0, "floor": 230.0, "by_hand": 20.0},
              {"harness": 250.0, "buildx": 200.0, "floor": 210.0, "by_hand": 30.0}],
    **bench_pairs.summary(PAIRS),
    "by_builds": {"2": {"wall": 230.0, "schedule": SCHEDULE}},
    "routed": 250.0, "routed_ratio": 1.042,
    "audit_peer": {"linux/arm64": {"seconds": 15.6, "elf_files": 800}},
    "audit_depth": {"linux/arm64": {"elf": 0.22, "deep": 0.41, "ratio": 1.864}},
    "publish": {"publish_first_s": 39.2, "publish_first_blobs": 12, "publish_second_s": 3.1,
                "publish_second_blobs": 0, "merge_s": 0.4, "docker_push_s": 142.2,
                "push_ratio": 0.276},
    "native_modules": {"linux/arm64": {"count": 14, "loaded": 12, "seconds": 9.42}},
    "cache": [{"engine": "unix:///e.sock", "version": "26.1.5", "without_s": 300.0,
               "with_s": 60.0, "ratio": 0.2, "steps_cached": 40, "steps_run": 2,
               "verdicts": {"linux/arm64": "pass"},
               "verdicts_without": {"linux/arm64": "pass"}}],
    "build_cache_growth_bytes": 5_000_000_000,
}


def full() -> BenchRun:
    measured = dataclasses.replace(
        BENCH_MEASURED, alone={"linux/arm64": 150.0}, side_by_side=240.0,
        cpu=CpuRuns(Cpu(420.4, 20.0), Cpu(50.2, 10.0), Cpu(370.0, 30.0)),
        answers_read_warm=["kept"], probe_seconds={"linux/arm64": 1.2},
        hello_seconds={"linux/arm64": 7.3}, audit_seconds_side_by_side={"linux/arm64": 1.4},
        audit_seconds={"linux/arm64": None}, audit_read_warm={"linux/arm64": "kept"},
        baseline_seconds={"linux/arm64": 0.9}, audit_files={"linux/arm64": 812},
        verdicts={"linux/arm64": "pass"}, schedule=SCHEDULE, ideal=150.0, ratio=1.6)
    return BenchRun(
        measured=measured,
        first_peer=FirstPeer(220.0, {"linux/arm64": 219.0},
                             AptFetch({"linux/arm64": 26}, {"linux/arm64": 56}), 1.091, 230.0),
        pairs=PAIRS, summary=bench_pairs.summary(PAIRS),
        by_builds={"2": BuildsRun(230.0, SCHEDULE)}, routed=250.0, routed_ratio=1.042,
        audit_peer={"linux/arm64": AuditPeer(15.6, 800)},
        audit_depth={"linux/arm64": AuditDepth(0.22, 0.41, 1.864)},
        publish=Publish(39.2, 12, 3.1, 0, 0.4, 142.2, 0.276),
        native_modules={"linux/arm64": NativeModules(14, 12, 9.42)}, cache=[CACHE],
        build_cache_growth_bytes=5_000_000_000)


def test_a_full_run_is_bench_jsons_keys_and_values_as_they_have_always_been() -> None:
    got = to_json(full())
    assert got == FULL
    assert isinstance(got, dict) and list(got) == list(FULL)  # and in bench.json's order
    assert json.loads(json.dumps(got)) == FULL  # plain JSON, nothing else in it


def test_a_measure_not_taken_is_left_out_not_written_as_null() -> None:
    """--skip-alone has no ideal or ratio; a run without --routed-engine, --compare-builds
    or --cache-engine has none of those keys; a run not built with buildx no pairs."""
    got = to_json(BenchRun(measured=BENCH_MEASURED))
    assert isinstance(got, dict)
    for key in ("ideal", "ratio", "buildx_peer", "buildx_floor", "pairs", "floor_ratio_median",
                "by_builds", "routed", "routed_ratio", "publish", "native_modules", "cache",
                "build_cache_growth_bytes"):
        assert key not in got, key
    # A figure that was measured but is unknown stays, as null: no CPU counters off Linux.
    assert got["cpu"] == {"side_by_side": None, "warm_asked": None}
    assert got["audit_peer"] == {} and got["audit_depth"] == {}


def test_a_first_peer_without_a_floor_has_no_floor_key() -> None:
    peer = to_json(FirstPeer(220.0, {}, AptFetch({}, {}), 1.091))
    assert isinstance(peer, dict) and "buildx_floor" not in peer and peer["buildx_ratio"] == 1.091


def test_the_cache_only_file_is_its_platforms_and_its_runs() -> None:
    assert to_json(CacheOnly(["linux/arm64"], [CACHE])) == {
        "platforms": ["linux/arm64"], "cache": FULL["cache"]}


def test_what_json_cannot_hold_is_refused_not_written_as_its_repr() -> None:
    with pytest.raises(TypeError, match=r"bench\.json holds no"):
        to_json({"when": object()})


seconds = st.floats(0.1, 1e4, allow_nan=False)


@given(seconds, seconds, st.none() | seconds, st.none() | seconds)
def test_a_pair_reads_back_from_its_json_as_itself(harness: float, buildx: float,
                                                   floor: float | None,
                                                   by_hand: float | None) -> None:
    pair = Pair(harness, buildx, floor, by_hand)
    data = json.loads(json.dumps(to_json(pair)))
    assert Pair.read(data) == pair


def test_a_pair_without_its_harness_seconds_is_refused() -> None:
    with pytest.raises(ValueError, match="without its harness"):
        Pair.read({"buildx": 200.0})
