"""Parity on an RPM userland compares what was asked for by hand, read from dnf 4's history
in the image (tests/fixtures/dnf-history: a real history of Debian's dnf, the RPMs it
installed), as apt's marks and apk's world file are for theirs."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest

from harness.core.answers.parity import summary
from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platform
from tests.helpers import FIXTURES, TINY_RPM, make_tiny_base, run_harness

PLATFORMS = ("linux/amd64", "linux/arm64")


@pytest.mark.parametrize("history", [True, False])
def test_a_dependency_on_one_platform_only_is_detail_where_dnf_says_so(
        tmp_path: Path, docker_client: docker.DockerClient, history: bool) -> None:
    for name in PLATFORMS:
        make_tiny_base(docker_client, parse_platform(name), TINY_RPM)
    run = run_harness(*(f"--platform={n}" for n in PLATFORMS),
                      f"--dockerfile={FIXTURES / 'dnf-history' / 'Dockerfile'}",
                      f"--build-arg=BASE_IMAGE={TINY_RPM}",
                      f"--build-arg=DNF_HISTORY={int(history)}", f"--report-dir={tmp_path}",
                      f"--image=harness-test/rpm-marks-{int(history)}", "--require=")
    assert run.returncode == Exit.OK, run.stdout[-3000:]
    data = json.loads((tmp_path / "report.json").read_text())
    packages = {p["platform"]: p["observed"]["packages"]["detail"] for p in data["platforms"]}
    parity = data["parity"]
    if history:
        for seen in packages.values():
            assert seen["marks"] == "/var/lib/dnf/history.sqlite"
            assert seen["manual"] == ["app", "helper"], seen
        assert (parity["unmarked"], parity["missing"], parity["dependencies"]) == (
            [], [], [{"package": "archdep", "on": ["linux/arm64"]}]), parity
        assert summary(parity).startswith(
            "no difference: the 2 packages installed by hand are on every platform"), parity
    else:  # no marks: everything compared, and the summary says so
        assert all(seen["marks"] is None and seen["manual"] is None
                   for seen in packages.values()), packages
        assert parity["missing"] == [{"package": "archdep", "on": ["linux/arm64"]}], parity
        assert "compared in full on linux/amd64, linux/arm64" in summary(parity)
