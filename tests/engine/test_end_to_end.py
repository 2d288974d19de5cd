"""`nox -s build` of the real Rust Dockerfile for the four default platforms, as a user runs it.

Slow on a fresh machine (bases are bootstrapped and rustc installed under QEMU: minutes);
the second run of a machine reuses the cached bases and BuildKit's layer cache.
"""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.containers.local_registry import LocalRegistry
from harness.core.outcomes import Exit
from harness.distribution.registry import Registry
from tests.helpers import CHECKS_PER_PLATFORM, FIXTURES, imagetools, run_nox

pytestmark = pytest.mark.slow
EXPECTED = {"linux/amd64": "pass", "linux/386": "quirk", "linux/arm64": "pass",
            "linux/arm/v7": "pass"}


def nox_session(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_nox("-s", name, "--", *args)


def nox_build(*args: str) -> subprocess.CompletedProcess[str]:
    return nox_session("build", *args)


@pytest.fixture(scope="module")
def rust_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str],
                                                                 dict[str, Any], Path]:
    reports = tmp_path_factory.mktemp("rust-reports")
    run = nox_build(f"--report-dir={reports}")
    data = json.loads((reports / "report.json").read_text())
    return run, data, reports


def test_four_platforms_build_and_come_out_as_expected(rust_run: Any) -> None:
    run, data, _ = rust_run
    assert run.returncode == Exit.OK, run.stdout[-5000:] + run.stderr[-3000:]
    assert {p["platform"]: p["verdict"] for p in data["platforms"]} == EXPECTED
    assert data["verdict"] == "quirk" and data["exit_status"] == Exit.OK


def test_the_386_quirk_is_explained(rust_run: Any) -> None:
    _, data, _ = rust_run
    i386 = next(p for p in data["platforms"] if p["platform"] == "linux/386")
    # isa does not apply to 386, and the image has no native module: neither is a finding
    [quirk] = [f for f in i386["findings"] if f["kind"] not in ("not-applicable", "absent")]
    assert (quirk["source"], quirk["kind"]) == ("uname", "quirk")
    assert "PER_LINUX32" in quirk["message"] and "dpkg --print-architecture" in quirk["fix"]
    assert i386["observed"]["uname"]["value"] == data["host"]["arch"]  # the host's kernel
    assert i386["observed"]["dpkg"]["value"] == "i386"


def test_every_toolchain_is_of_its_platform(rust_run: Any) -> None:
    _, data, _ = rust_run
    for p in data["platforms"]:
        observed = p["observed"]
        for source in ("config", "dpkg", "sh-elf", "rustc", "rustc-elf", "hello-elf"):
            assert p["platform"] in observed[source]["fits"], (p["platform"], source)
        assert observed["hello"]["value"] == "ran"
        assert observed["rustc"]["detail"]["release"]
        # The default tag is the platform's, with the project's and Dockerfile's key
        slug = p["platform"].replace("/", "-")
        assert p["build"]["ok"] and re.search(rf":{slug}-[0-9a-f]{{8}}$", p["image"]["tag"])
        assert p["probe_seconds"] is not None and p["hello_seconds"] is not None


def test_each_base_is_minimized_as_debians_own_images_are(
        rust_run: Any, docker_client: docker.DockerClient) -> None:
    """Pulled or made here (no registry: mmdebstrap), a platform's base behaves in a build as
    the official debian image does: no service started by a postinst, dpkg without fsync,
    no apt cache kept in a layer."""
    _, data, _ = rust_run
    for p in data["platforms"]:
        seen = docker_client.containers.run(
            p["image"]["base"], ["sh", "-c", "/usr/sbin/policy-rc.d; echo $?; cat "
                                 "/etc/dpkg/dpkg.cfg.d/docker-apt-speedup "
                                 "/etc/apt/apt.conf.d/docker-clean"],
            platform=p["platform"], remove=True).decode()
        assert seen.startswith("101\nforce-unsafe-io\n"), (p["platform"], seen)
        assert "DPkg::Post-Invoke" in seen and "/var/cache/apt/archives/*.deb" in seen


def test_reports_for_ci(rust_run: Any) -> None:
    run, _, reports = rust_run
    assert len(list(ET.parse(reports / "junit.xml").getroot().iter("testcase"))) == \
        4 * CHECKS_PER_PLATFORM
    table = (reports / "report.md").read_text()
    for platform in EXPECTED:
        assert f"| `{platform}` |" in table
    assert "multi-arch verdicts" in run.stdout
    assert "linux/386     QUIRK" in run.stdout


def test_a_real_toolchain_of_the_wrong_architecture_fails(tmp_path: Path) -> None:
    """Debian's rustc for amd64 installed into the linux/386 image (multiarch)."""
    run = nox_build("--platform=linux/386",
                    f"--dockerfile={FIXTURES / 'wrong-toolchain' / 'Dockerfile'}",
                    f"--report-dir={tmp_path}", "--image=harness-test/wrong-toolchain")
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-5000:] + run.stderr[-3000:]
    [p] = json.loads((tmp_path / "report.json").read_text())["platforms"]
    assert p["verdict"] == "fail"
    failed = {f["source"] for f in p["findings"] if f["kind"] in ("mismatch", "missing")}
    assert {"rustc", "rustc-elf"} <= failed
    assert p["observed"]["rustc"]["value"] == "x86_64-unknown-linux-gnu"


def test_publish_two_tags_then_check_the_published_tag(rust_run: Any, tmp_path: Path,
                                                       docker_client: docker.DockerClient) -> None:
    """The issue's "done when": build, publish by digest under 1.63 and latest, check latest;
    each platform's SBOM, provenance and verdict published beside it, from the build's
    report, as Docker's own tool reads them."""
    run, data, reports = rust_run
    assert run.returncode == Exit.OK
    with LocalRegistry(docker_client) as registry:
        pub = nox_session("publish", f"--registry={registry.host}/rust", "--tag=1.63",
                          "--tag=latest", f"--report-dir={reports}")
        assert pub.returncode == Exit.OK, pub.stdout[-3000:] + pub.stderr[-3000:]
        with Registry(registry.host) as reg:
            assert reg.tags("rust") == ["1.63", "latest"]
            assert reg.get_manifest("rust", "1.63")[2] == reg.get_manifest("rust", "latest")[2]
        sboms = imagetools(f"{registry.host}/rust:latest", "SBOM")
        for p in data["platforms"]:
            spdx = sboms[p["platform"]]["SPDX"]
            rustc = next(x for x in spdx["packages"] if x["name"] == "rustc")
            arch = p["observed"]["dpkg"]["value"]  # amd64, i386, arm64, armhf
            assert f"arch={arch}" in rustc["externalRefs"][0]["referenceLocator"]
            # Every ELF file of Debian's Rust image is a package's (known good).
            assert "0 ELF files no package owns" in spdx["comment"]
        provenance = imagetools(f"{registry.host}/rust:latest", "Provenance")
        assert {k: v["SLSA"]["invocation"]["configSource"]["entryPoint"]
                for k, v in provenance.items()} == dict.fromkeys(EXPECTED,
                                                                 "dockerfiles/Dockerfile.rust")
        check = nox_session("check", f"{registry.host}/rust:latest",
                            f"--report-dir={tmp_path / 'check'}")
        assert check.returncode == Exit.OK, check.stdout[-5000:] + check.stderr[-3000:]
    data = json.loads((tmp_path / "check" / "report.json").read_text())
    assert {p["platform"]: p["verdict"] for p in data["platforms"]} == EXPECTED
    assert data["index"]["findings"] == []
    for p in data["platforms"]:
        assert p["image"]["digest"] == data["index"]["entries"][p["platform"]]


def test_report_html_shows_the_timeline_and_the_matrix_in_a_real_browser(
        rust_run: Any) -> None:
    """report.html of the real run, opened in Chromium: the DOM it renders has every
    platform's row, verdict and phase bars, and its screenshot (kept in the report directory
    for people to look at) is not blank."""
    from PIL import Image

    from tests.browser import dump_dom, screenshot
    from tests.factories import Page

    _, _data, reports = rust_run
    page = Page(dump_dom(reports / "report.html"))
    for platform, verdict in EXPECTED.items():
        assert page.having("tr", data_platform=platform, data_verdict=verdict)
        assert {"build", "step", "probe", "hello", "audit"} <= {
            a["data-phase"] for a in page.having("rect", data_platform=platform)}
    assert [a["data-verdict"] for a in page.having("td") if a.get("data-source") == "uname"] \
        == ["quirk", "pass", "pass", "pass"]  # 386 (x86_64), amd64, arm/v7, arm64
    assert "QEMU" in " ".join(page.text)
    png = screenshot(reports / "report.html", reports / "report.png")
    image = Image.open(png).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50  # text, bars and cells, not a blank page
    assert any(rgb == (0xED, 0x8C, 0x00) for _n, rgb in colours)  # the quirk's cell
    assert any(rgb == (0x1E, 0x88, 0xE5) for _n, rgb in colours)  # build bars
