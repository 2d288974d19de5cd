"""container-structure-test configs, unmodified, on every platform: CST's own configs and one
file with the platform's placeholders, on images built here for amd64 and arm64 (emulated)."""

from __future__ import annotations

import io
import json
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.containers import structure_run as structure
from harness.core.declared.usercheck import OUTPUT_CAP
from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platform
from tests.helpers import FIXTURES, TINY, run_harness

PLATFORMS = ("linux/amd64", "linux/arm64")
HERE = FIXTURES / "structure"
APP, META, UBUNTU = (str(HERE / n) for n in (
    "app.yaml", "ubuntu_22_04_metadata_test.yaml", "ubuntu_22_04_test.yaml"))


@pytest.fixture(scope="module")
def seeded(tiny_base: Callable[[str], str]) -> None:
    for name in PLATFORMS:
        tiny_base(name)


def run(where: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    done = run_harness(f"--dockerfile={HERE / 'Dockerfile'}", f"--platform={','.join(PLATFORMS)}",
                       f"--build-arg=BASE_IMAGE={TINY}", "--image=harness-test/structure",
                       "--require=", f"--report-dir={where}", *args)
    report = json.loads((where / "report.json").read_text()) \
        if (where / "report.json").exists() else {}
    return done.returncode, done.stdout + done.stderr, report


def failed_tests(report: dict[str, Any]) -> dict[str, set[str]]:
    return {p["platform"]: {f["source"].rpartition("/")[2] for f in p["findings"]
                            if f["source"].startswith("cst:") and f["kind"] == "mismatch"}
            for p in report["platforms"]}


def test_a_config_its_image_passes_passes_on_every_platform(tmp_path: Path,
                                                             seeded: None) -> None:
    status, out, report = run(tmp_path, f"--structure-tests={APP}", f"--structure-tests={META}")
    assert status == Exit.OK, out[-4000:]
    assert {p["platform"]: p["verdict"] for p in report["platforms"]} == dict.fromkeys(
        PLATFORMS, "pass")
    for p in report["platforms"]:
        cst = {k: v["value"] for k, v in p["observed"].items() if k.startswith("cst:")}
        assert len(cst) == 11 and set(cst.values()) == {"passed"}, cst
    cases = {c.attrib["name"] for c in ET.parse(tmp_path / "junit.xml").getroot()
             .iter("testcase")}
    assert f"test_structure[{APP}:setup reaches the command-linux/arm64]" in cases
    assert f"test_structure[{META}:Metadata Test-linux/amd64]" in cases


def test_the_tests_an_image_fails_are_named_on_the_platform_that_fails_them(
        tmp_path: Path, seeded: None) -> None:
    status, out, report = run(tmp_path, "--build-arg=WRONG_ON=arm64", f"--structure-tests={APP}",
                              f"--structure-tests={META}", f"--structure-tests={UBUNTU}")
    assert status == Exit.IMAGE_WRONG, out[-4000:]
    # CST's own ubuntu config fails on this Debian image where it expects Ubuntu's files and
    # tools; its PATH, root, hosts and dummy tests pass. Only arm64 has the wrong app.
    ubuntu = {f"ubuntu_22_04_test.yaml::{n}" for n in (
        "apt-get", "apt-config", "Debian Sources", "Passwd file", "Date", "Machine ID",
        "License Test")}
    assert failed_tests(report) == {
        "linux/amd64": ubuntu,
        "linux/arm64": ubuntu | {"app.yaml::app names its architecture",
                                 "app.yaml::arch record names the platform"}}
    [arm] = [p for p in report["platforms"] if p["platform"] == "linux/arm64"]
    [content] = [f for f in arm["findings"]
                 if f["source"].endswith("::arch record names the platform")]
    assert content["message"] == \
        "Expected string '^{dpkg}' not found in file content string 'amd64\n'"
    assert f"FAILED harness/plugin/checks.py::test_structure[{APP}:app names its " \
           "architecture-linux/arm64]" in out
    for sink in ("report.md", "report.html"):
        text = (tmp_path / sink).read_text()
        assert "arch record names the platform" in text and "Passwd file" in text


def test_a_config_of_another_schema_or_an_unknown_key_is_refused_before_any_build(
        tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"  # 1.0.0 and 2.0.0 are CST's; no release had 3.0.0
    other.write_text("schemaVersion: '3.0.0'\n")
    status, out, _ = run(tmp_path, f"--structure-tests={other}")
    assert status == Exit.USAGE, out[-3000:]
    assert "schemaVersion '3.0.0' is not one CST has" in out
    assert not (tmp_path / "logs").exists()
    typo = tmp_path / "typo.yaml"
    typo.write_text("schemaVersion: '2.0.0'\ncommandTests:\n- name: x\n  command: ls\n"
                    "  expectedOuptut: ['x']\n")
    status, out, _ = run(tmp_path, f"--structure-tests={typo}")
    assert status == Exit.USAGE and "unknown key 'expectedOuptut'" in out, out[-3000:]
    assert "did you mean 'expectedOutput'?" in out


def test_overrides_skip_and_change_checks_on_the_platforms_they_name(
        tmp_path: Path, seeded: None) -> None:
    """The known-bad image again, its two arm64 failures skipped there with a reason, and a
    declared check's expectation changed for arm64 alone."""
    (tmp_path / "pyproject.toml").write_text(f"""\
[tool.harness]
platforms = {list(PLATFORMS)!r}
dockerfile = "{HERE / 'Dockerfile'}"
image = "harness-test/structure"
build-args = ["BASE_IMAGE={TINY}", "WRONG_ON=arm64"]
require = []
structure-tests = ["{APP}"]

[tool.harness.checks.arch]
command = "cat /opt/app/arch"
expect = '^{{dpkg}}$'

[[tool.harness.overrides]]
platforms = ["linux/arm64"]
skip = ["cst:*::app names its architecture", "cst:*::arch record*"]
reason = "the arm64 app keeps amd64's record until its rebuild"
checks.arch = {{ expect = '^amd64$' }}
""")
    done = run_harness(cwd=tmp_path)
    assert done.returncode == Exit.OK, done.stdout[-4000:]
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    verdicts = {p["platform"]: p["verdict"] for p in report["platforms"]}
    assert verdicts == dict.fromkeys(PLATFORMS, "pass")
    found = {p["platform"]: {f["source"].rpartition("::")[2]: f for f in p["findings"]
                             if f["kind"] == "skipped"} for p in report["platforms"]}
    assert found["linux/amd64"] == {}
    assert set(found["linux/arm64"]) == {"app names its architecture",
                                         "arch record names the platform"}
    for f in found["linux/arm64"].values():
        assert f["message"] == \
            "skipped on linux/arm64: the arm64 app keeps amd64's record until its rebuild"
    [arm] = [p for p in report["platforms"] if p["platform"] == "linux/arm64"]
    assert arm["observed"]["check:arch"]["value"] == "amd64"  # passed with arm64's expect
    cases = {c.attrib["name"]: c for c in ET.parse(tmp_path / "reports" / "junit.xml")
             .getroot().iter("testcase")}
    skipped = cases[f"test_structure[{APP}:app names its architecture-linux/arm64]"]
    assert skipped.find("skipped") is not None
    assert "amd64's record" in skipped.find("skipped").attrib["message"]
    assert cases[f"test_structure[{APP}:app names its architecture-linux/amd64]"] \
        .find("skipped") is None


def test_a_file_past_the_cap_is_read_with_the_size_of_what_was_not(
        docker_client: Any, tiny_base: Callable[[str], str]) -> None:
    """A 70 MB file ending in b: the content test reads 64 MiB and knows of the rest, so its
    patterns are a usage finding, not a verdict on the first part (see judge_content)."""
    platform = parse_platform("linux/amd64")
    body = b"a" * (70 * 1000 * 1000 - 1) + b"b"
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        member = tarfile.TarInfo("big")
        member.size = len(body)
        tar.addfile(member, io.BytesIO(body))
    with structure._Reader(docker_client, tiny_base(platform.name), platform) as reader:
        assert reader.container.put_archive("/", archive.getvalue())
        answer = reader.content("/big")
    assert answer.content is not None and len(answer.content) == OUTPUT_CAP
    assert answer.dropped == len(body) - OUTPUT_CAP
