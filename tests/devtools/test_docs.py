"""The reference pages are generated from the code that defines each thing: every option,
every cause of a failure and every report.json field is there, and a new one appears
without anyone writing it."""

from __future__ import annotations

import json
from pathlib import Path

from devtools import bench_pairs, docs
from harness.core import diagnosis, options, report_schema


def test_every_option_is_in_the_configuration_reference() -> None:
    page = docs.configuration()
    for o in options.OPTIONS:
        assert f"`{o.flag}`" in page, o.flag
        if o.in_pyproject:
            assert f"`{o.toml_key}`" in page, o.toml_key


def test_every_options_row_gives_its_declared_default_and_help() -> None:
    """The reference page says what the parsers and HarnessConfig take: the one declaration."""
    rows = {row.split(" | ")[1]: row for row in docs.configuration().splitlines()
            if row.startswith("| ") and " | `--" in row}
    assert sorted(rows) == sorted(f"`{o.flag}`" for o in options.OPTIONS)
    for o in options.OPTIONS:
        row = rows[f"`{o.flag}`"]
        assert row.endswith(f" | {docs._cell(o.help)} |"), o.flag
        shown = row.split(" | ")[3]
        defaults = list(o.default) if isinstance(o.default, (list, tuple, dict)) else \
            [] if o.default is None else [o.default]
        assert all(str(d) in shown for d in defaults), o.flag
        assert bool(defaults) == bool(shown.strip()), o.flag


def test_every_cause_is_in_troubleshooting_with_its_status_and_fix() -> None:
    page = docs.troubleshooting()
    sections = page.split("\n## ")[1:]
    assert [s.split("`")[1] for s in sections] == [c.name for c in diagnosis.CAUSES]
    for cause, section in zip(diagnosis.CAUSES, sections, strict=True):
        assert f"exit status {int(cause.kind.exit_status)}" in section
        assert "- **fix**: " in section and "- **what you see**: " in section
        assert cause.why and f"- **why**: {docs._cell(cause.why)}" in section
    emulator = next(s for s in sections if s.startswith("`emulator-crash`"))
    assert "verdict `error`, exit status 69" in emulator and "native runner" in emulator


def test_every_report_field_is_in_the_report_reference() -> None:
    page = docs.report_json()
    for name in report_schema.SCHEMA["properties"]:
        assert f"| `{name}` |" in page, name
    for name in report_schema.PLATFORM["properties"]:
        assert f"| `platforms[].{name}` |" in page, name
    assert "`emulator`" in page  # the finding kinds, from the enum


ROOT = Path(__file__).resolve().parents[2]


def test_every_benchmark_run_kept_is_a_row_and_two_bars() -> None:
    history = json.loads((ROOT / "docs" / "bench" / "history.json").read_text())
    page, plot = docs.bench_history(history)
    for run in history["runs"]:
        ratio = run["side_by_side"] / run["buildx_peer"]
        assert f"| {run['run']} | {run['side_by_side']} s | {run['buildx_peer']} s | " \
            f"{ratio:.3f} |" in page
        assert f"run {run['run']}: {ratio:.3f}" in plot
    assert plot.count("<rect") == 2 + 2 * len(history["runs"])  # the legend's, then the bars
    floors = [run for run in history["runs"] if run.get("buildx_floor")]
    assert floors and plot.count('class="floor"') == len(floors)  # a line per run that has one


def test_the_pages_are_written_where_the_site_reads_them(tmp_path: Path) -> None:
    written = docs.write(tmp_path / "reference", ROOT / "docs" / "bench" / "history.json")
    assert sorted(p.name for p in written) == sorted(docs.PAGES)
    nav = (ROOT / "mkdocs.yml").read_text()
    assert all(f"reference/{name}" in nav for name in docs.PAGES)


def test_every_report_field_says_what_it_is() -> None:
    rows = [line for line in docs.report_json().splitlines() if line.startswith("| `")]
    assert rows and not [row for row in rows if row.rstrip().endswith("|  |")]


def test_a_run_without_a_publish_measure_is_a_row_with_a_dash() -> None:
    page, _plot = docs.bench_history({"runs": [
        {"run": 12, "side_by_side": 285.8, "buildx_peer": 292.2, "warm": 24.0}]})
    assert "| 12 | 285.8 s | 292.2 s | 0.978 | - | 24.0 s | - |" in page


def test_a_run_with_a_floor_shows_it_as_seconds_and_a_ratio_and_a_line() -> None:
    page, plot = docs.bench_history({"runs": [
        {"run": 26, "side_by_side": 225.4, "buildx_peer": 199.8, "buildx_floor": 208.8,
         "warm": 6.0}]})
    assert "| 26 | 225.4 s | 199.8 s | 1.128 | 208.8 s (1.045) | 6.0 s | - |" in page
    assert "<title>floor 208.8 s</title>" in plot


PAIRED = {"run": 28, "warm": 9.0, "pairs": [
    {"harness": 240.0, "buildx": 220.0, "floor": 230.0, "by_hand": 20.0},
    {"harness": 250.0, "buildx": 200.0, "floor": 210.0, "by_hand": 30.0}]}


def test_a_run_of_pairs_is_a_row_of_medians_with_their_spread() -> None:
    page, _plot = docs.bench_history({"runs": [PAIRED]})
    low, high = 240 / 230, 250 / 210
    median = round((round(low, 3) + round(high, 3)) / 2, 3)
    by_hand = round((1.0 + round(250 / 230, 3)) / 2, 3)
    assert f"| 28 | 245.0 s | 210.0 s | {245 / 210:.3f} | 220.0 s ({220 / 210:.3f}) | 9.0 s | - " \
        f"| {median:.3f} ({low:.3f}-{high:.3f}), 2 pairs | {by_hand:.3f} ({1.0:.3f}-" \
        f"{250 / 230:.3f}) |" in page


def test_the_plot_shows_a_run_of_pairs_as_its_median_and_a_spread_bar() -> None:
    _page, plot = docs.bench_history({"runs": [PAIRED]})
    [spread] = [line for line in plot.splitlines() if 'class="spread"' in line]
    assert f"2 pairs: {240 / 230:.3f}-{250 / 210:.3f}" in spread
    [median] = [line for line in plot.splitlines() if 'class="median"' in line]
    median_ratio = round((round(240 / 230, 3) + round(250 / 210, 3)) / 2, 3)
    assert f"harness / floor {median_ratio:.3f}" in median


def test_the_plot_shows_an_earlier_runs_one_draw_as_a_point_without_a_spread() -> None:
    history = json.loads((ROOT / "docs" / "bench" / "history.json").read_text())
    _page, plot = docs.bench_history(history)
    floors = [run for run in history["runs"] if run.get("buildx_floor")]
    assert plot.count('class="median"') == len(floors)  # one point per run with a floor
    assert 'class="spread"' not in plot  # no run kept so far has pairs
    for run in floors:
        assert f"run {run['run']}: harness / floor " \
            f"{run['side_by_side'] / run['buildx_floor']:.3f}" in plot


def test_the_spread_bar_runs_from_the_lowest_pair_to_the_highest() -> None:
    """Higher ratios sit higher on the plot: lower y."""
    _page, plot = docs.bench_history({"runs": [PAIRED]})
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
    page, _plot = docs.bench_history({"runs": [
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
    page, _plot = docs.bench_history({"runs": [
        _run(30, 240.0, 220.0, schedule=schedule), _run(31, 250.0, 220.0)]})
    said = _analysis(page)
    [thirty] = [line for line in said.splitlines() if line.strip().startswith("- run 30")]
    assert "linux/arm64 build 0-209, probe 209-218" in thirty
    assert "linux/amd64 build 0-51, probe 51-55" in thirty
    [thirty_one] = [line for line in said.splitlines()
                    if line.strip().startswith("- run 31")]
    assert "no schedule kept" in thirty_one


def test_the_analysis_of_pairs_uses_each_runs_median_and_says_its_spread() -> None:
    page, _plot = docs.bench_history({"runs": [PAIRED]})
    said = _analysis(page)
    median = round((round(240 / 230, 3) + round(250 / 210, 3)) / 2, 3)
    assert f"run 28 ({median:.3f}, 2 pairs {240 / 230:.3f}-{250 / 210:.3f})" in said


def test_a_history_without_a_floor_says_so_instead_of_an_analysis_of_nothing() -> None:
    page, _plot = docs.bench_history({"runs": [
        {"run": 12, "side_by_side": 285.8, "buildx_peer": 292.2, "warm": 24.0}]})
    assert "No run kept a floor" in _analysis(page)


def test_the_generated_page_of_the_recorded_history_has_its_analysis() -> None:
    history = json.loads((ROOT / "docs" / "bench" / "history.json").read_text())
    said = _analysis(docs.bench_history(history)[0])
    floors = [run for run in history["runs"] if run.get("buildx_floor")]
    assert f"{len(floors)} runs kept a floor" in said
    latest = floors[-1]
    assert f"latest, run {latest['run']}" in said
