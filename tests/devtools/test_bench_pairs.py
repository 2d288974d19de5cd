"""The bench's pairs: each pair's ratios, their median and spread, ``by_hand_ratio``, the
``--pairs`` count, and the by-hand script's command line."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devtools import bench, bench_pairs
from devtools.bench_record import AptFetch, BenchRun, FirstPeer, Pair
from harness.core.failures.errors import UsageError
from harness.core.settings import options
from tests.factories import bench_run

# Two pairs of a run on this machine's figures (harness, plain buildx, floor, by hand).
PAIRS = [Pair(harness=240.0, buildx=220.0, floor=230.0, by_hand=20.0),
         Pair(harness=250.0, buildx=200.0, floor=210.0, by_hand=30.0)]


def test_by_hand_ratio_sets_the_harness_against_plain_buildx_plus_the_checks_by_hand() -> None:
    assert bench_pairs.by_hand_ratio(240.0, 220.0, 20.0) == 1.0
    assert bench_pairs.by_hand_ratio(230.0, 200.0, 30.0) == 1.0
    assert bench_pairs.by_hand_ratio(115.0, 100.0, 0.0) == pytest.approx(1.15)


def test_each_pair_has_its_floor_ratio_its_buildx_ratio_and_its_by_hand_ratio() -> None:
    assert bench_pairs.pair_ratios(PAIRS[0]) == {
        "buildx_ratio": round(240 / 220, 3), "floor_ratio": round(240 / 230, 3),
        "by_hand_ratio": 1.0}


def test_a_pair_without_a_floor_has_no_floor_ratio() -> None:
    """Off Linux there are no CPU counters, so no floor: not a ratio to zero."""
    got = bench_pairs.pair_ratios(Pair(harness=240.0, buildx=220.0, floor=None, by_hand=20.0))
    assert "floor_ratio" not in got and got["by_hand_ratio"] == 1.0


def test_the_run_reports_each_ratios_median_and_its_spread_as_min_and_max() -> None:
    got = bench_pairs.summary(PAIRS)
    low, high = round(240 / 230, 3), round(250 / 210, 3)
    assert got["floor_ratio_min"] == low and got["floor_ratio_max"] == high
    assert got["floor_ratio_median"] == round((low + high) / 2, 3)
    assert got["by_hand_ratio_median"] == round((1.0 + round(250 / 230, 3)) / 2, 3)
    assert got["harness_median"] == 245.0 and got["buildx_median"] == 210.0
    assert got["by_hand_median"] == 25.0


def test_the_median_of_three_pairs_is_the_middle_one_not_the_mean() -> None:
    """One slow draw (a slow archive for plain buildx) moves the mean, not the median."""
    pairs = [dataclasses.replace(PAIRS[0], harness=h) for h in (230.0, 240.0, 460.0)]
    got = bench_pairs.summary(pairs)
    assert got["floor_ratio_median"] == round(240 / 230, 3)
    assert got["floor_ratio_max"] == 2.0


@given(st.lists(st.floats(0.01, 1e4, allow_nan=False), min_size=1, max_size=9))
def test_the_median_lies_within_its_spread(values: list[float]) -> None:
    got = bench_pairs.spread(values)
    assert got["min"] <= got["median"] <= got["max"]
    assert got["min"] == round(min(values), 3) and got["max"] == round(max(values), 3)


def test_no_pairs_have_no_median() -> None:
    with pytest.raises(ValueError, match="no values"):
        bench_pairs.spread([])
    assert bench_pairs.summary([]) == {}


def result(pairs: list[Pair]) -> BenchRun:
    return bench_run(FirstPeer(220.0, {}, AptFetch({}, {}), 1.091), pairs, side_by_side=240.0)


def test_the_table_shows_every_pair_and_each_ratios_median_with_its_spread() -> None:
    lines = bench.render(result(PAIRS))
    [one, two] = [line for line in lines if line.lstrip().startswith("pair ")]
    assert one.endswith("240.0 / 220.0 / 230.0 / 20.0 s")
    assert two.endswith("250.0 / 200.0 / 210.0 / 30.0 s")
    [floor] = [line for line in lines if "harness / floor, median" in line]
    got = bench_pairs.summary(PAIRS)
    assert floor.endswith(f"{got['floor_ratio_median']:.3f} "
                          f"({got['floor_ratio_min']:.3f}-{got['floor_ratio_max']:.3f})")
    [by_hand] = [line for line in lines if "(plain buildx + by hand)" in line]
    assert f"{got['by_hand_ratio_median']:.3f}" in by_hand


def test_one_pair_is_shown_as_its_own_figure_with_no_spread() -> None:
    lines = bench.render(result(PAIRS[:1]))
    [floor] = [line for line in lines if "harness / floor, median" in line]
    assert floor.endswith(f" {240 / 230:.3f}")


ROOT = Path(__file__).resolve().parents[2]


def test_bad_input_to_the_bench_is_one_line_and_exit_4_through_the_harnesss_wrapper() -> None:
    run = subprocess.run([sys.executable, "-m", "devtools.bench", "--pairs", "0"],
                         capture_output=True, text=True, check=False, cwd=ROOT)
    assert run.returncode == 4, run.stderr
    assert run.stderr.startswith("bench: bad input: ") and "fix: " in run.stderr
    assert "Traceback" not in run.stderr


def test_the_bench_takes_the_tables_options_it_passes_on_and_no_other() -> None:
    parser_help = subprocess.run([sys.executable, "-m", "devtools.bench", "--help"],
                                 capture_output=True, text=True, check=True, cwd=ROOT).stdout
    parser_help = parser_help.split("\noptions:\n")[1]  # after the description
    flat = re.sub(r"\s+", "", parser_help)
    for o in options.OPTIONS:
        offered = re.search(rf"(?<![\w-]){re.escape(o.flag)}(?![\w-])", parser_help) is not None
        assert offered == (o.key in bench.PASSED_ON), o.flag
        if offered:
            assert re.sub(r"\s+", "", o.help) in flat, o.flag


@pytest.mark.parametrize("count", ["0", "-1", "two"])
def test_a_count_of_pairs_under_one_is_bad_input_before_any_work(count: str) -> None:
    with pytest.raises(UsageError, match="not a count of pairs"):
        bench.main(["--pairs", count])


def test_the_default_is_two_pairs_and_the_help_says_what_a_pair_is() -> None:
    parser_help = subprocess.run(
        [sys.executable, "-m", "devtools.bench", "--help"], capture_output=True, text=True,
        check=True, cwd=ROOT).stdout
    assert "--pairs N" in parser_help and "A B A B" in parser_help
    assert "default 2" in parser_help and "by_hand_ratio" in parser_help
    assert bench_pairs.DEFAULT_PAIRS == 2


def test_the_by_hand_script_asks_each_image_in_turn_as_a_user_would() -> None:
    command = bench_pairs.by_hand_command({"linux/amd64": "x:linux-amd64",
                                           "linux/arm64": "x:linux-arm64"})
    assert command == ["sh", str(bench_pairs.BY_HAND), "linux/amd64", "x:linux-amd64",
                       "linux/arm64", "x:linux-arm64"]
    script = bench_pairs.BY_HAND.read_text()
    assert 'docker run --rm --platform "$platform" "$image" sh -c' in script
    for asked in ("uname -m", "dpkg --print-architecture", "rustc -vV", "cargo new",
                  "cargo build", "./target/debug/hello"):
        assert asked in script, asked


@pytest.mark.parametrize("args", [[], ["linux/amd64"]])
def test_the_by_hand_script_refuses_a_platform_without_its_image(args: list[str]) -> None:
    proc = subprocess.run(["sh", str(bench_pairs.BY_HAND), *args], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 2 and "usage:" in proc.stderr and not proc.stdout
