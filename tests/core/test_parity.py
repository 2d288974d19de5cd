"""Platforms compared with each other: the package databases side by side."""

from __future__ import annotations

from harness.core import observation as obs
from harness.core.parity import architectures, compare, lines, parse, summary
from harness.core.render import render_console, render_markdown
from harness.core.report import build_report
from tests.factories import HOST, result

DPKG = "libc6\t2.36-9+deb12u9\nrustc\t1.63.0+dfsg1-2\nzlib1g\t1:1.2.13.dfsg-1\n"


def test_a_platform_shipping_another_release_is_named() -> None:
    """dolthub/doltgresql#3034: one platform shipped last release's binary."""
    packages = {"linux/amd64": parse("dpkg", DPKG),
                "linux/arm64": parse("dpkg", DPKG.replace("1.63.0+dfsg1-2", "1.62.1+dfsg1-1"))}
    found = compare(packages)
    assert found is not None and found["versions_count"] == 1
    assert lines(found) == ["rustc: linux/amd64 1.63.0+dfsg1-2, linux/arm64 1.62.1+dfsg1-1"]
    assert summary(found).startswith("1 packages differ in version")


def test_binnmus_and_arch_qualifiers_are_no_difference_and_missing_ones_are() -> None:
    amd = parse("dpkg", DPKG + "libgcc-s1:amd64\t12.2.0-14\n")
    arm = parse("dpkg", DPKG.replace("2.36-9+deb12u9", "2.36-9+deb12u9+b1")
                + "libgcc-s1\t12.2.0-14\nlibatomic1\t12.2.0-14\n")
    found = compare({"linux/amd64": amd, "linux/arm/v7": arm})
    assert found is not None and found["versions_count"] == 0
    assert found["missing"] == [{"package": "libatomic1", "on": ["linux/arm/v7"]}]
    assert compare({"linux/amd64": amd}) is None  # nothing to compare with


def test_apk_and_rpm_listings_are_read() -> None:
    assert parse("apk", "musl-1.2.4-r2\nca-certificates-bundle-20230506-r0\n") == {
        "musl": "1.2.4-r2", "ca-certificates-bundle": "20230506-r0"}
    assert parse("rpm", "bash\t5.2.15-3.fc38\n") == {"bash": "5.2.15-3.fc38"}


def test_every_report_has_the_parity_section_as_a_warning() -> None:
    amd, arm = result("linux/amd64", "pass"), result("linux/arm64", "pass")
    amd.observations.append(obs.packages("dpkg", DPKG))
    arm.observations.append(obs.packages("dpkg", DPKG.replace("2.36-9", "2.35-1")))
    report = build_report([amd, arm], HOST, "warn")
    assert report["verdict"] == "pass" and report["exit_status"] == 0  # a warning only
    assert report["parity"]["versions"][0]["package"] == "libc6"
    assert "#### Parity across platforms" in render_markdown(report)
    assert any(line.startswith("parity (warning): 1 packages differ")
               for line in render_console(report))


def test_the_listing_as_probed_now_names_each_package_architecture_apart_from_its_version() -> None:
    listed = "libc6\t2.36-9+deb12u9\tarmhf\nca-certificates\t20230311\tall\nold\t1.0\n"
    assert parse("dpkg", listed) == {"libc6": "2.36-9+deb12u9", "ca-certificates": "20230311",
                                     "old": "1.0"}
    assert architectures("dpkg", listed) == {"libc6": "armhf", "ca-certificates": "all"}
    assert architectures("apk", "musl-1.2.4-r2\n") == {}
