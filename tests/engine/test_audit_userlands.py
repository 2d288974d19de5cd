"""The ELF audit on real userlands of every platform in the table: each tiny Debian base
(busybox, dpkg and the C library of its architecture) audits clean for its own platform,
loaders included, and foreign for another; its linkage audit finds every program able to
start and no library with unmet needs (Debian's own userlands never cry wolf)."""

from __future__ import annotations

from typing import Any

import docker
import pytest

from harness.containers import audit_pass, probes
from harness.core.platforms.table import PLATFORMS, Platform, parse_platform
from tests.helpers import TINY, TINY_TRIXIE, make_tiny_base

# Debian has no bookworm port of riscv64; linux/arm/v6 runs armel (Debian has no armv6 port).
RECIPE = {"linux/riscv64": TINY_TRIXIE}


def audited(client: docker.DockerClient, image: str, as_platform: Platform,
            run_as: Platform) -> dict[str, dict[str, Any]]:
    """Each whole-image source's detail, by source (elf-audit, linkage, isa)."""
    with probes.ImageProbe(client, image, run_as) as probe:
        found = audit_pass.audit_files(probe, as_platform, ()).found
    return {seen.source: seen.detail for seen in found}


# The x86-64 levels (linux/amd64/v2 to v4) share plain amd64's Debian userland.
TABLE = [p for p in PLATFORMS if p.architecture != "amd64" or p.variant is None]


@pytest.mark.parametrize("platform", TABLE, ids=[p.name for p in TABLE])
def test_a_real_userland_audits_clean_for_its_platform_and_not_for_another(
        docker_client: docker.DockerClient, platform: Platform) -> None:
    image = make_tiny_base(docker_client, platform, RECIPE.get(platform.name, TINY))
    found = audited(docker_client, image, platform, platform)
    own = found["elf-audit"]
    assert own["files"] and own["count"] == 0, own["foreign"]
    assert own["malformed_count"] == 0, own["malformed"]  # Debian's files all load
    linked = found["linkage"]
    assert linked["exhausted"] == []  # far within the audits' budgets
    assert linked["programs"] and linked["count"] == 0, linked["broken"]
    assert linked["libraries_unmet_count"] == 0, linked["libraries_unmet"]
    if "isa" in found:  # the variant's own userland needs no later CPU than the variant's
        assert found["isa"]["count"] == 0, found["isa"]["needs"]
    other = parse_platform("linux/amd64" if platform.name != "linux/amd64" else "linux/arm64")
    foreign = audited(docker_client, image, other, platform)["elf-audit"]
    # Its multiarch directory is excused for another platform (foreign on purpose there);
    # its busybox is not.
    assert any(str(f).split()[0] in ("/bin/busybox", "/usr/bin/busybox")
               for f in foreign["foreign"]), foreign
