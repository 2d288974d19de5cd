"""The harness as a tool in someone else's project: installed from a wheel, run in a directory
of its own with its own pyproject.toml, Dockerfile, a declared check and a pytest check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.core.outcomes import Exit
from tests.helpers import ROOT, TINY, run_harness

PLATFORMS = ("linux/amd64", "linux/arm64")
# The image writes its userland's name where the app would keep its own; on arm64 the
# known-bad variant writes amd64, as a stage built on $BUILDPLATFORM would.
DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG WRONG_ON=none
RUN a="$(/usr/bin/dpkg --print-architecture)"; \\
    if [ "$a" = "$WRONG_ON" ]; then echo amd64; else echo "$a"; fi > /etc/app-arch
"""
PYPROJECT = f"""\
[tool.harness]
platforms = {list(PLATFORMS)!r}
dockerfile = "Dockerfile"
image = "harness-test/any-project"
require = []
build-args = ["BASE_IMAGE={TINY}"]
check-dirs = ["checks"]

[tool.harness.checks.app-arch]
command = "cat /etc/app-arch"
expect = '^{{dpkg}}$'
"""
USER_CHECK = '''\
def test_app_arch_file(image, target):
    """The app's own record of its architecture is the platform's."""
    assert image.read("/etc/app-arch").decode().strip() == target.dpkg_arch
    assert image.run("cat", "/etc/app-arch").status == 0
'''


def make_project(where: Path) -> Path:
    (where / "checks").mkdir(parents=True)
    (where / "Dockerfile").write_text(DOCKERFILE)
    (where / "pyproject.toml").write_text(PYPROJECT)
    (where / "checks" / "test_app.py").write_text(USER_CHECK)
    return where


@pytest.fixture(scope="module")
def seeded(tiny_base: Callable[[str], str]) -> None:
    for name in PLATFORMS:
        tiny_base(name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The harness installed from its wheel into a directory of its own (no file of this
    checkout on the path): what `pip install multiarch-harness` gives a user."""
    where = tmp_path_factory.mktemp("installed")
    # From a copy of the tracked files: setuptools builds in the source tree, and a build/
    # left there by an earlier layout would put stale modules in the wheel.
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    source = where / "source"
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(where / "wheel"), str(source)], check=True, capture_output=True)
    [wheel] = (where / "wheel").glob("multiarch_harness-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(where / "site"), str(wheel)], check=True, capture_output=True)
    return where / "site"


def data(report_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((report_dir / "report.json").read_text())
    return loaded


def test_a_project_outside_this_repository_runs_its_own_checks_from_the_installed_tool(
        tmp_path: Path, seeded: None, installed: Path) -> None:
    project = make_project(tmp_path / "project")
    env = {**os.environ, "PYTHONPATH": str(installed)}
    where = subprocess.run([sys.executable, "-c", "import harness; print(harness.__file__)"],
                           cwd=project, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(installed)

    run = subprocess.run([str(installed / "bin" / "multiarch-harness"), "build",
                          "--no-preflight", "-p", "no:cacheprovider"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=900,
                         check=False)
    assert run.returncode == Exit.OK, run.stdout[-4000:] + run.stderr[-2000:]
    report = data(project / "reports")
    assert {p["platform"]: p["verdict"] for p in report["platforms"]} == dict.fromkeys(
        PLATFORMS, "pass")
    for p in report["platforms"]:
        assert p["observed"]["check:app-arch"]["value"] == p["observed"]["dpkg"]["value"]
        assert p["observed"]["pytest:checks/test_app.py::test_app_arch_file"]["value"] == \
            "passed"
    cases = {c.attrib["name"] for c in
             ET.parse(project / "reports" / "junit.xml").getroot().iter("testcase")}
    for name in PLATFORMS:
        assert f"test_declared_check[app-arch-{name}]" in cases
        assert f"test_app_arch_file[{name}]" in cases
        assert f"test_source[elf-audit-{name}]" in cases  # the built-in checks ran
    assert "| `linux/arm64` | ✅ pass |" in (project / "reports" / "report.md").read_text()


def test_the_users_checks_fail_the_platform_they_catch_and_only_that_one(
        tmp_path: Path, seeded: None) -> None:
    project = make_project(tmp_path / "project")
    run = run_harness("--build-arg=WRONG_ON=arm64", "--checks=checks", "-n", "2", cwd=project)
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-4000:]
    report = data(project / "reports")
    verdicts = {p["platform"]: p["verdict"] for p in report["platforms"]}
    assert verdicts == {"linux/amd64": "pass", "linux/arm64": "fail"}
    # The command line's build argument joins the project's: its BASE_IMAGE is kept (as
    # served: the platform's own tag of it).
    for p in report["platforms"]:
        args = p["build"]["build_args"]
        assert args["WRONG_ON"] == "arm64" and TINY in args["BASE_IMAGE"], args
    [arm] = [p for p in report["platforms"] if p["platform"] == "linux/arm64"]
    found = {f["source"]: f for f in arm["findings"] if f["kind"] == "mismatch"}
    assert set(found) == {"check:app-arch", "pytest:checks/test_app.py::test_app_arch_file"}
    assert "printed 'amd64', which does not match /^{dpkg}$/ for linux/arm64" in \
        found["check:app-arch"]["message"]
    assert "assert 'amd64' == 'arm64'" in \
        found["pytest:checks/test_app.py::test_app_arch_file"]["message"]
    assert "FAILED checks/test_app.py::test_app_arch_file[linux/arm64]" in run.stdout


def test_a_bad_declared_check_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    with (project / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.harness.checks.broken]\ncommand = "true"\nexpect = "{arch}"\n')
    run = run_harness(cwd=project)
    assert run.returncode == Exit.USAGE, run.stdout[-3000:] + run.stderr[-2000:]
    assert "[tool.harness.checks.broken]: unknown placeholder {arch} in expect" in \
        run.stdout + run.stderr
    assert not (project / "reports" / "logs").exists()


def test_a_declared_check_whose_command_is_not_in_the_image_fails(tmp_path: Path,
                                                                   seeded: None) -> None:
    project = make_project(tmp_path / "project")
    with (project / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.harness.checks.jq]\ncommand = ["jq", "--version"]\n'
                 'expect = "^jq-1"\n')
    run = run_harness("--platform=linux/amd64", cwd=project)
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-4000:]
    [amd] = data(project / "reports")["platforms"]
    [finding] = [f for f in amd["findings"] if f["source"] == "check:jq"]
    assert finding["kind"] == "missing" and "jq" in finding["message"]
    assert amd["verdict"] == "fail"
