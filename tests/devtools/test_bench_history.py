"""The benchmark history page, generated from docs/bench/history.json: a row and two bars per
run, harness / floor as a point (a run of pairs as its median and a spread bar), and the
analysis of which runs sit above the floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools import bench_history, bench_pairs

ROOT = Path(__file__).resolve().parents[2]


def test_every_benchmark_run_kept_is_a_row_and_two_bars() -> None:
    history = json.loads((ROOT / "docs" / "bench" / "history.json").read_text())
    page, plot = bench_history.bench_history(history)
    for run in history["runs"]:
        ratio = run["side_by_side"] / run["buildx_peer"]
        assert f"| {run['run']} | {run['side_by_side']} s | {run['buildx_peer']} s | " \
            f"{ratio:.3f} |" in page
        assert f"run {run['run']}: {ratio:.3f}" in plot
    assert plot.count("<rect") == 2 + 2 * len(history["runs"])  # the legend's, then the bars
    floors = [run for run in history["runs"] if run.get("buildx_floor")]
    assert floors and plot.count('class="floor"') == len(floors)  # a line per run that has one


def test_a_run_without_a_publish_measure_is_a_row_with_a_dash() -> None:
    page, _plot = bench_history.bench_history({"runs": [
        {"run": 12, "side_by_side": 285.8, "buildx_peer": 292.2, "warm": 24.0}]})
    assert "| 12 | 285.8 s | 292.2 s | 0.978 | - | 24.0 s | - |" in page


def test_a_run_with_a_floor_shows_it_as_seconds_and_a_ratio_and_a_line() -> None:
    page, plot = bench_history.bench_history({"runs": [
        {"run": 26, "side_by_side": 225.4, "buildx_peer": 199.8, "buildx_floor": 208.8,
         "warm": 6.0}]})
    assert "| 26 | 225.4 s | 199.8 s | 1.128 | 208.8 s (1.045) | 6.0 s | - |" in page
    assert "<title>floor 208.8 s</title>" in plot


PAIRED = {"run": 28, "warm": 9.0, "pairs": [
    {"harness": 240.0, "buildx": 220.0, "floor": 230.0, "by_hand": 20.0},
    {"harness": 250.0, "buildx": 200.0, "floor": 210.0, "by_hand": 30.0}]}


def test_a_run_of_pairs_is_a_row_of_medians_with_their_spread() -> None:
    page, _plot = bench_history.bench_history({"runs": [PAIRED]})
    low, high = 240 / 230, 250 / 210
    median = round((round(low, 3) + round(high, 3)) / 2, 3)
    by_hand = round((1.0 + round(250 / 230, 3)) / 2, 3)
    assert f"| 28 | 245.0 s | 210.0 s | {245 / 210:.3f} | 220.0 s ({220 / 210:.3f}) | 9.0 s | - " \
        f"| {median:.3f} ({low:.3f}-{high:.3f}), 2 pairs | {by_hand:.3f} ({1.0:.3f}-" \
        f"{250 / 230:.3f}) |" in page


def test_the_plot_shows_a_run_of_pairs_as_its_median_and_a_spread_bar() -> None:
    _page, plot = bench_history.bench_history({"runs": [PAIRED]})
    [spread] = [line for line in plot.splitlines() if 'class="spread"' in line]
    assert f"2 pairs: {240 / 230:.3f}-{250 / 210:.3f}" in spread
    [median] = [line for line in plot.splitlines() if 'class="median"' in line]
    median_ratio = round((round(240 / 230, 3) + round(250 / 210, 3)) / 2, 3)
    assert f"harness / floor {median_ratio:.3f}" in median


def test_the_plot_shows_an_earlier_runs_one_draw_as_a_point_without_a_spread() -> None:
    history = json.loads((ROOT / "docs" / "bench" / "history.json").read_text())
    _page, plot = bench_history.bench_history(history)
    floors = [run for run in history["runs"] if run.get("buildx_floor")]
    assert plot.count('class="median"') == len(floors)  # one point per run with a floor
    assert 'class="spread"' not in plot  # no run kept so far has pairs
    for run in floors:
        assert f"run {run['run']}: harness / floor " \
            f"{run['side_by_side'] / run['buildx_floor']:.3f}" in plot


def test_the_spread_bar_runs_from_the_lowest_pair_to_the_highest() -> None:
    """Higher ratios sit higher on the plot: lower y."""
    _page, plot = bench_history.bench_history({"runs": [PAIRED]})
    [spread] = [line for line in plot.splitlines() if 'class="spread"' in line]
    [median] = [line for line in plot.splitlines() if 'class="median"' in line]
    y_max = float(spread.split('y1="')[1].split('"')[0])
    y_min = float(spread.split('y2="')[1].split('"')[0])
    y_median = float(median.split('cy="')[1].split('"')[0])
    assert y_max < y_median < y_min


def _run(number: int, harness: float, floor: float, **extra: object) -> dict[str, object]:
    return {"run": number, "side_by_side": harness, "buildx_peer": floor - 5.0,
            "buildx_floor": floor, "warm": 6.0, **extra}


def _analysis(page: str) -> str:
    assert "\n## Analysis\n" in page
    return page.split("\n## Analysis\n")[1]


def test_the_analysis_names_each_run_above_the_floor_and_beyond_the_target() -> None:
    page, _plot = bench_history.bench_history({"runs": [
        _run(21, 217.3, 215.6), _run(24, 212.9, 240.7), _run(25, 264.2, 220.9),
        {"run": 12, "side_by_side": 285.8, "buildx_peer": 292.2, "warm": 24.0}]})
    said = _analysis(page)
    assert "3 runs kept a floor" in said  # run 12 has none: not counted
    [above] = [line for line in said.splitlines() if line.startswith("- Above the floor")]
    assert "run 21 (1.008)" in above and "run 25 (1.196)" in above and "run 24" not in above
    [beyond] = [line for line in said.splitlines() if line.startswith("- Of those, beyond")]
    assert "run 25" in beyond and "run 21" not in beyond
    assert f"≤ {bench_pairs.TARGET_FLOOR_RATIO}" in beyond
    [below] = [line for line in said.splitlines() if line.startswith("- At or below")]
    assert "run 24 (0.885)" in below
    # Across the runs: the median of their medians, and its spread.
    assert "median 1.008 (0.885-1.196)" in said


def test_the_analysis_gives_each_run_above_the_floor_its_schedule_where_kept() -> None:
    schedule = {"linux/amd64": {"build": [0.0, 51.0], "probe": [51.0, 55.0]},
                "linux/arm64": {"build": [0.0, 209.0], "probe": [209.0, 218.0]}}
    page, _plot = bench_history.bench_history({"runs": [
        _run(30, 240.0, 220.0, schedule=schedule), _run(31, 250.0, 220.0)]})
    said = _analysis(page)
    [thirty] = [line for line in said.splitlines() if line.strip().startswith("- run 30")]
    assert "linux/arm64 build 0-209, probe 209-218" in thirty
    assert "linux/amd64 build 0-51, probe 51-55" in thirty
    [thirty_one] = [line for line in said.splitlines()
                    if line.strip().startswith("- run 31")]
    assert "no schedule kept" in thirty_one


def test_the_analysis_of_pairs_uses_each_runs_median_and_says_its_spread() -> None:
    page, _plot = bench_history.bench_history({"runs": [PAIRED]})
    said = _analysis(page)
    median = round((round(240 / 230, 3) + round(250 / 210, 3)) / 2, 3)
    assert f"run 28 ({median:.3f}, 2 pairs {240 / 230:.3f}-{250 / 210:.3f})" in said


def test_a_history_without_a_floor_says_so_instead_of_an_analysis_of_nothing() -> None:
    page, _plot = bench_history.bench_history({"runs": [
        {"run": 12, "side_by_side": 285.8, "buildx_peer": 292.2, "warm": 24.0}]})
    assert "No run kept a floor" in _analysis(page)


def test_the_generated_page_of_the_recorded_history_has_its_analysis() -> None:
    history = json.loads((ROOT / "docs" / "bench" / "history.json").read_text())
    said = _analysis(bench_history.bench_history(history)[0])
    floors = [run for run in history["runs"] if run.get("buildx_floor")]
    assert f"{len(floors)} runs kept a floor" in said
    latest = floors[-1]
    assert f"latest, run {latest['run']}" in said


@pytest.mark.parametrize(("run", "said"), [
    ({"run": 40, "side_by_side": "fast", "buildx_peer": 200.0, "warm": 6.0}, "side_by_side"),
    ({"run": 41, "side_by_side": 210.0, "buildx_peer": True, "warm": 6.0}, "buildx_peer"),
    ({"run": 42, "warm": 6.0, "pairs": [{"buildx": 200.0}]}, "without its harness"),
])
def test_a_run_of_the_wrong_shape_is_named_not_a_traceback_deep_in_the_plot(
        run: dict[str, object], said: str) -> None:
    with pytest.raises(ValueError, match=said):
        bench_history.bench_history({"runs": [run]})
