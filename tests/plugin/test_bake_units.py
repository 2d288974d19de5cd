"""The plugin over a Bake definition of two targets, through pytest itself (pytester) and
with no engine: each (target, platform) is one unit of the parametrisation, of the report and
of the exit status. ``docker buildx bake --print`` needs the docker CLI, not an engine."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.core.outcomes import Exit

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.skipif(shutil.which("docker") is None,
                                reason="docker buildx bake --print needs the docker CLI")

CHECKS = str(Path(__file__).resolve().parents[2] / "harness" / "plugin" / "checks.py")
BAKE = """\
group "default" {
  targets = ["app", "worker"]
}
target "app" {
  platforms = ["linux/amd64", "linux/arm64"]
}
target "worker" {
  inherits = ["app"]
  platforms = ["linux/arm64"]
}
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{pytester.path}/no-engine.sock")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    (pytester.path / "Dockerfile").write_text("FROM scratch\n")
    (pytester.path / "docker-bake.hcl").write_text(BAKE)
    return pytester.path


def harness(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--multiarch",
        f"--rootdir={pytester.path}", f"--report-dir={pytester.path / 'reports'}",
        f"--bake={pytester.path / 'docker-bake.hcl'}", *args, CHECKS, timeout=120)


def test_each_target_and_platform_is_one_unit_of_the_checks(pytester: pytest.Pytester,
                                                            project: Path) -> None:
    run = harness(pytester, "--collect-only", "-q")
    assert run.ret == Exit.OK, run.outlines
    built = sorted(line.rpartition("::")[2] for line in run.outlines
                   if "::test_builds[" in line)
    assert built == ["test_builds[app-linux/amd64]", "test_builds[app-linux/arm64]",
                     "test_builds[worker-linux/arm64]"]


def test_every_unit_is_in_the_one_report_and_its_exit_status(pytester: pytest.Pytester,
                                                             project: Path) -> None:
    run = harness(pytester)
    assert run.ret == Exit.CANNOT_CHECK, run.outlines[-20:]
    assert ("--bake: 3 units of work (2 targets by platform): app-linux/amd64, "
            "app-linux/arm64, worker-linux/arm64") in run.outlines
    report = json.loads((project / "reports" / "report.json").read_text())
    assert (report["verdict"], report["exit_status"]) == ("error", Exit.CANNOT_CHECK)
    assert [(e["target"], e["platform"], e["verdict"]) for e in report["platforms"]] == [
        ("app", "linux/amd64", "error"), ("app", "linux/arm64", "error"),
        ("worker", "linux/arm64", "error")]
    suite = ET.parse(project / "reports" / "junit.xml").getroot()
    failed = sorted(c.get("name") or "" for c in suite.iter("testcase")
                    if c.find("failure") is not None)
    assert failed == ["test_builds[app-linux/amd64]", "test_builds[app-linux/arm64]",
                      "test_builds[worker-linux/arm64]"]
