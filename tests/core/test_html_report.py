"""report.html and the Mermaid timeline of report.md, rendered from reports: a pass, a
quirk, a fail and an error; nine platforms; a run where nothing was built."""

from __future__ import annotations

import json
import re

import pytest

from harness.core.answers import observation as obs
from harness.core.outcomes import RunMode, Verdict
from harness.core.reporting.html_report import COLOURS, cell_verdict, render_html
from harness.core.reporting.render import gantt, render_markdown
from harness.core.reporting.report import Report, build_report
from harness.core.results.finding import Finding
from harness.core.results.platform_result import BuildInfo, EngineInfo, Phase, PlatformResult
from tests.factories import HOST, Page
from tests.helpers import FIXTURES

T0 = 1_800_000_000.0
NINE = ["linux/amd64", "linux/386", "linux/arm64", "linux/arm/v7", "linux/arm/v6",
        "linux/ppc64le", "linux/s390x", "linux/riscv64", "linux/mips64le"]


def timed(platform: str, verdict: str, offset: float, findings: list[Finding] | None = None,
          kind: str = "native") -> PlatformResult:
    phases = [Phase.between("base", T0 + offset, T0 + offset + 2),
              Phase.between("build", T0 + offset + 2, T0 + offset + 60),
              Phase.between("step", T0 + offset + 3, T0 + offset + 50,
                            "[2/3] RUN apt-get: install <rustc> # now"),
              Phase.between("probe", T0 + offset + 60, T0 + offset + 70),
              Phase.between("hello", T0 + offset + 62, T0 + offset + 66),
              Phase.between("audit", T0 + offset + 66, T0 + offset + 69)]
    return PlatformResult(
        platform, verdict, findings or [],
        [obs.dpkg("i386\n" if platform == "linux/386" else "<b>amd64</b>\n"),
         obs.uname("x86_64\n")],
        build=BuildInfo(True, "buildx", 58.0, "/r/logs/x-build.log"),
        run=RunMode(kind), probe_log="/r/logs/x-probe.log", phases=phases,
        engine=EngineInfo("unix:///var/run/docker.sock", "x86_64", "26.1.5"))


FOUR = [timed("linux/amd64", Verdict.PASS, 0),
        timed("linux/386", Verdict.QUIRK, 1, [Finding("uname", "quirk", "uname -m says x86_64",
                                              "read dpkg")]),
        timed("linux/arm64", Verdict.FAIL, 2, [Finding("dpkg", "mismatch", "dpkg says amd64",
                                               "fix the FROM")], kind="qemu"),
        timed("linux/arm/v7", Verdict.ERROR, 3, [Finding("build", "error", "engine lost", "retry")],
              kind="qemu")]


def test_the_page_shows_every_platform_phase_and_verdict() -> None:
    page = Page(render_html(build_report(FOUR, HOST, "warn"), base="/r"))
    for p in FOUR:
        assert page.having("g", data_platform=p.platform)
        assert page.having("tr", data_platform=p.platform, data_verdict=p.verdict)
        assert {a["data-phase"] for a in page.having("rect", data_platform=p.platform)} == {
            "base", "build", "step", "probe", "hello", "audit"}
    dpkg = [a["data-verdict"] for a in page.having("td") if a.get("data-source") == "dpkg"]
    assert dpkg == ["pass", "pass", "pass", "fail"]  # 386, amd64, arm/v7 (build), arm64
    assert page.having("line", **{"class": "ideal"})  # the longest platform alone
    assert page.having("a", href="logs/x-build.log")  # relative to the report directory
    assert not [t for t, _a in page.elements if t in ("script", "link", "img", "iframe")]
    text = " ".join(page.text)
    assert "QEMU" in text and "native" in text and "fix the FROM" in text


def test_what_an_image_said_is_text_not_markup() -> None:
    html = render_html(build_report(FOUR, HOST, "warn"))
    assert "<b>amd64</b>" not in html and "&lt;b&gt;amd64&lt;/b&gt;" in html
    assert "<rustc>" not in html


def test_a_run_that_built_nothing_still_renders() -> None:
    failed = [PlatformResult(p, Verdict.ERROR,
                             [Finding("build", "error", "no engine", "start one")])
              for p in ("linux/amd64", "linux/arm64")]
    page = Page(render_html(build_report(failed, HOST, "warn")))
    assert "No timings" in " ".join(page.text)
    assert len(page.having("tr")) >= 3  # header + both platforms
    assert gantt(build_report(failed, HOST, "warn")) == []


def test_nine_platforms_fit_one_timeline() -> None:
    page = Page(render_html(build_report([timed(p, Verdict.PASS, i) for i, p in enumerate(NINE)],
                                         HOST, "warn")))
    [svg] = page.having("svg")
    assert int(svg["height"] or 0) < 400
    assert len(page.having("g", **{"class": "row"})) == 9


@pytest.mark.parametrize("verdict", [Verdict.PASS, Verdict.QUIRK, Verdict.FAIL, Verdict.ERROR])
def test_cells_take_the_verdict_of_their_sources_findings(verdict: str) -> None:
    [p] = [r for r in FOUR if r.verdict == verdict]
    data = PlatformResult.from_dict(p.to_dict())  # as report.json has it
    expected = {"fail": "fail", "quirk": "pass", "error": "pass", "pass": "pass"}[verdict]
    assert cell_verdict(data, "dpkg") == expected
    assert cell_verdict(data, "rustc") == "absent"


# -- the Mermaid gantt block: parsed by the subset of the grammar the harness writes ------

TASK = re.compile(r"^    (?P<name>[^:#;]+?) :(?P<start>\d+), (?P<length>\d+)ms$")


def parse_gantt(markdown: str) -> dict[str, list[tuple[str, int, int]]]:
    """Sections and their tasks; an AssertionError on anything outside the subset."""
    block = markdown.split("```mermaid\n", 1)[1].split("```", 1)[0].splitlines()
    assert block[0] == "gantt"
    assert block[1].startswith("    title ")
    assert block[2:4] == ["    dateFormat x", "    axisFormat %M:%S"]
    sections: dict[str, list[tuple[str, int, int]]] = {}
    current = None
    for line in block[4:]:
        if line.startswith("    section "):
            current = line.removeprefix("    section ")
            assert current and ":" not in current
            sections[current] = []
            continue
        m = TASK.match(line)
        assert m and current is not None, f"not in the gantt subset: {line!r}"
        sections[current].append((m["name"], int(m["start"]), int(m["length"])))
    return sections


def test_report_md_holds_a_valid_gantt_of_every_phase() -> None:
    markdown = render_markdown(build_report(FOUR, HOST, "warn"))
    sections = parse_gantt(markdown)
    assert list(sections) == ["linux/386 native", "linux/amd64 native", "linux/arm/v7 qemu",
                              "linux/arm64 qemu"]
    names = [n for n, _s, _l in sections["linux/amd64 native"]]
    assert names[:2] == ["base", "build"] and names[2].startswith("step [2/3] RUN apt-get")
    assert sections["linux/amd64 native"][1] == ("build", 2000, 58000)
    assert all(start >= 0 and length >= 1 for tasks in sections.values()
               for _n, start, length in tasks)
    assert len(markdown.encode()) < 1 << 20  # GitHub's step summary limit



def test_a_recorded_run_renders_as_it_happened() -> None:
    """report.json of a real run (the four Rust images, linux/386 and linux/amd64 on a second
    engine, from `nox -s bench`), rendered again."""
    recorded = json.loads((FIXTURES / "recorded" / "rust-routed.json").read_text())
    page = Page(render_html(Report.from_json(recorded), base="/work/main/reports/bench/routed"))
    for p in recorded["platforms"]:
        assert page.having("tr", data_platform=p["platform"], data_verdict=p["verdict"])
        assert {"build", "step", "probe", "hello", "audit"} <= {
            a["data-phase"] for a in page.having("rect", data_platform=p["platform"])}
    uname = {a["data-verdict"] for a in page.having("td") if a.get("data-source") == "uname"}
    assert uname == {"quirk", "pass"}
    assert page.having("a", href="logs/linux-arm64-build.log")
    text = " ".join(page.text)
    assert "unix:///tmp/bench-engine2/docker.sock" in text and "Docker 26." in text
    sections = parse_gantt(render_markdown(Report.from_json(recorded)))
    assert [s.split()[0] for s in sections] == [p["platform"] for p in recorded["platforms"]]


def test_a_step_from_the_build_cache_is_drawn_as_a_step_of_its_own_colour() -> None:
    data = build_report(FOUR, HOST, "warn").to_json()
    first = data["platforms"][0]
    step = next(ph for ph in first["phases"] if ph["name"] == "step")
    first["phases"].append({**step, "name": "cached"})
    page = Page(render_html(Report.from_json(data), base="/r"))
    [drawn] = [a for a in page.having("rect", data_platform=first["platform"])
               if a["data-phase"] == "cached"]
    [run] = [a for a in page.having("rect", data_platform=first["platform"])
             if a["data-phase"] == "step"]
    assert drawn["height"] == run["height"] == "6" and drawn["fill"] != run["fill"]


def _arm64_with_isa_not_applicable() -> Report:
    from harness.core.judging.verdicts import judge
    from harness.core.platforms.table import parse_platform

    platform = parse_platform("linux/arm64")
    seen = [obs.dpkg("arm64\n"), obs.absent("rustc"), *obs.not_applicable(platform)]
    judged = judge(platform, seen, "x86_64", RunMode("qemu"))
    return build_report([PlatformResult("linux/arm64", judged.verdict, judged.findings, seen)],
                        HOST, "warn")


def test_a_source_that_does_not_apply_reads_not_applicable_not_absent() -> None:
    """The CPU-level audit on arm64 showed grey "absent", as if an answer were missing."""
    report = _arm64_with_isa_not_applicable()
    [p] = report.platforms
    assert cell_verdict(p, "isa") == "not-applicable"
    assert cell_verdict(p, "baseline-cpu") == "absent"  # nothing said of it at all
    page = Page(render_html(report))
    [cell] = [a for a in page.having("td") if a.get("data-source") == "isa"]
    assert cell["data-verdict"] == "not-applicable"
    colour = COLOURS["not-applicable"]
    assert cell["style"] == f"background:{colour}"
    assert colour not in (COLOURS["absent"], COLOURS["pass"])  # its own, not absent's grey
    text = " ".join(page.text)
    assert "not applicable" in text and "not applicable to linux/arm64: " in text
    findings = render_html(report).split("<h2>Findings</h2>", 1)[1].split("<h2>", 1)[0]
    assert "not applicable" not in findings  # not a finding to act on
