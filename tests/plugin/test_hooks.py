"""The plugin's hooks through pytest itself (pytester, as pytest-xdist tests its own): a
session of the harness's checks with the plugin loaded and no engine. DOCKER_HOST names a
socket that does not exist, so nothing real is touched and each run takes seconds."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.core.outcomes import Exit

pytest_plugins = ["pytester"]

CHECKS = str(Path(__file__).resolve().parents[2] / "harness" / "plugin" / "checks.py")


@pytest.fixture
def no_engine(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{pytester.path}/no-engine.sock")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    (pytester.path / "Dockerfile").write_text("FROM scratch\n")
    return pytester.path


def harness(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # Without Hypothesis's plugin, as the harness runs pytest (cli.UNWANTED_PLUGINS): it
    # costs each process a second of CPU.
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--multiarch",
        f"--report-dir={pytester.path / 'reports'}",
        f"--dockerfile={pytester.path / 'Dockerfile'}", *args, CHECKS, timeout=120)


def test_an_unknown_platform_is_bad_input_in_one_line_before_any_work(
        pytester: pytest.Pytester, no_engine: Path) -> None:
    run = harness(pytester, "--platform=linux/bogus")
    assert run.ret == Exit.USAGE
    said = [line for line in run.errlines if line.strip()]
    assert said[0].startswith("ERROR: unknown platform 'linux/bogus': use one of linux/amd64")
    assert said[1].strip() == "fix: pass --platform with a name from that list"
    assert not (no_engine / "reports" / "report.json").exists(), "work began on bad input"


def test_an_unknown_option_is_a_usage_error(pytester: pytest.Pytester, no_engine: Path) -> None:
    run = harness(pytester, "--no-such-option")
    assert run.ret == Exit.USAGE
    assert any("unrecognized arguments: --no-such-option" in line for line in run.errlines)


def test_collect_only_lists_each_check_once_per_platform_and_asks_no_engine(
        pytester: pytest.Pytester, no_engine: Path) -> None:
    run = harness(pytester, "--collect-only", "-q", "--platform=linux/arm64",
                  "--platform=linux/riscv64")
    assert run.ret == Exit.OK, run.outlines
    ids = [line for line in run.outlines if line.startswith("harness/plugin/checks.py::")]
    platforms = [re.search(r"(linux/[a-z0-9/]+)\]$", i) for i in ids]
    assert all(platforms), ids  # every check is one platform's
    assert {m[1] for m in platforms if m} == {"linux/arm64", "linux/riscv64"}, ids
    assert "harness/plugin/checks.py::test_builds[linux/arm64]" in ids
    assert "harness/plugin/checks.py::test_builds[linux/riscv64]" in ids


def test_a_run_with_no_engine_is_an_error_69_in_every_report(
        pytester: pytest.Pytester, no_engine: Path) -> None:
    run = harness(pytester, "--platform=linux/arm64")
    assert run.ret == Exit.CANNOT_CHECK, run.outlines[-20:]
    report = json.loads((no_engine / "reports" / "report.json").read_text())
    assert report["verdict"] == "error" and report["exit_status"] == Exit.CANNOT_CHECK
    (arm,) = report["platforms"]
    assert arm["platform"] == "linux/arm64" and arm["verdict"] == "error"
    assert arm["findings"][0]["message"].startswith(
        f"no container engine answers at unix://{no_engine}/no-engine.sock (DOCKER_HOST)")
    # the JUnit XML, beside the other reports, says which check could not run and why
    suite = ET.parse(no_engine / "reports" / "junit.xml").getroot()
    failed = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["test_builds[linux/arm64]"]
    failure = failed[0].find("failure")
    assert failure is not None and "no container engine answers" in (failure.get("message") or "")
