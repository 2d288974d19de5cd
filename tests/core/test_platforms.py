"""The platform table: parsing, aliases, and every row's names agreeing with one another."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.answers import normalise
from harness.core.platforms.table import (
    PLATFORMS,
    UnknownPlatform,
    lookup,
    parse_platform,
    parse_platforms,
    runnable_architectures,
)
from harness.machine.config import load


@pytest.mark.parametrize(("text", "name"), [
    ("linux/amd64", "linux/amd64"),
    ("linux/x86_64", "linux/amd64"),
    ("linux/i386", "linux/386"),
    ("linux/aarch64", "linux/arm64"),
    ("linux/arm64/v8", "linux/arm64"),
    ("linux/arm", "linux/arm/v7"),
    ("LINUX/ARM/V7", "linux/arm/v7"),
    (" linux/arm/v5 ", "linux/arm/v5"),
])
def test_parse_follows_dockers_normalisation(text: str, name: str) -> None:
    assert parse_platform(text).name == name


@pytest.mark.parametrize("text", ["linux/mips", "amd64", "linux/arm/v9", "windows/amd64", "",
                                  "linux//arm"])
def test_unknown_platform_lists_the_known_ones(text: str) -> None:
    with pytest.raises(UnknownPlatform) as info:
        parse_platform(text)
    message = str(info.value)
    assert repr(text) in message
    assert all(p.name in message for p in PLATFORMS)


def test_parse_platforms_splits_commas_and_drops_duplicates() -> None:
    got = parse_platforms(["linux/arm64,linux/amd64", "linux/aarch64", "linux/386"])
    assert [p.name for p in got] == ["linux/arm64", "linux/amd64", "linux/386"]


def test_a_run_without_platforms_checks_the_four_of_the_seed(tmp_path: Path) -> None:
    """What a project that names no platform gets, read as a run reads it."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "pyproject.toml").write_text("[tool.harness]\ndockerfile = 'Dockerfile'\n")
    assert [p.name for p in load(tmp_path).platforms] == [
        "linux/amd64", "linux/386", "linux/arm64", "linux/arm/v7"]


def test_slug_is_a_valid_tag_component() -> None:
    assert parse_platform("linux/arm/v7").slug == "linux-arm-v7"


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
def test_every_row_maps_back_onto_itself(platform) -> None:  # type: ignore[no-untyped-def]
    """Each source's own name for the platform normalises to a set containing the platform."""
    assert platform.name in normalise.from_dpkg(platform.dpkg_arch)
    assert platform.name in normalise.from_rust_triple(platform.rust_triple)
    assert platform.name in normalise.from_uname(platform.uname[0])
    assert platform.name in normalise.from_long_bit(str(platform.bits))
    assert lookup(platform.architecture, platform.variant) == platform


def test_names_measured_in_the_notes() -> None:
    i386 = parse_platform("linux/386")
    assert (i386.dpkg_arch, i386.rust_triple, i386.bits) == ("i386", "i686-unknown-linux-gnu", 32)
    armhf = parse_platform("linux/arm/v7")
    assert (armhf.dpkg_arch, armhf.rust_triple) == ("armhf", "armv7-unknown-linux-gnueabihf")
    assert parse_platform("linux/ppc64le").dpkg_arch == "ppc64el"


def test_what_a_remote_engine_can_run_is_read_from_its_buildkit() -> None:
    # `docker buildx inspect` against Docker 26.1 on this machine (QEMU 7.2 handlers)
    platforms = ("linux/amd64, linux/amd64/v2, linux/amd64/v3, linux/amd64/v4, linux/arm64, "
                 "linux/riscv64, linux/ppc64, linux/ppc64le, linux/s390x, linux/386, "
                 "linux/mips64le, linux/mips64, linux/loong64, linux/arm/v7, linux/arm/v6")
    captured = f"""Name:          default
Driver:        docker

Nodes:
Name:             default
Endpoint:         default
Status:           running
BuildKit version: v0.0.0+unknown
Platforms:        {platforms}
Labels:
 org.mobyproject.buildkit.worker.moby.host-gateway-ip: 172.30.28.1
"""
    found = runnable_architectures(captured)
    assert ("linux", "arm") in found and ("linux", "386") in found
    assert ("linux", "amd64") in found and ("linux", "v2") not in found
    assert runnable_architectures("Platforms: linux/arm64*, linux/amd64") == {
        ("linux", "arm64"), ("linux", "amd64")}
    assert runnable_architectures("no platforms here") == set()
