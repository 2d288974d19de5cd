"""Where each platform's build cache goes, and buildx's flags for it
(harness.core.buildspec.buildcache)."""

from __future__ import annotations

import pytest

from harness.core.buildspec.buildcache import CachePlan, base_tag, check_repository, plan
from harness.core.failures.errors import UsageError
from harness.core.platforms.table import parse_platform

ARM = parse_platform("linux/arm/v7")


def test_the_classic_store_gets_an_inline_cache_carried_by_the_pushed_image() -> None:
    assert plan(ARM, "ghcr.io/team/cache", (), (), registry_export=False) == CachePlan(
        ("type=registry,ref=ghcr.io/team/cache:linux-arm-v7",), ("type=inline",),
        "ghcr.io/team/cache:linux-arm-v7")


def test_containerd_s_store_gets_a_registry_cache_of_every_stage() -> None:
    assert plan(ARM, "ghcr.io/team/cache", (), (), registry_export=True) == CachePlan(
        ("type=registry,ref=ghcr.io/team/cache:linux-arm-v7",),
        ("type=registry,ref=ghcr.io/team/cache:linux-arm-v7,mode=max",), None)


def test_buildx_specs_pass_through_with_the_platform_filled_in() -> None:
    got = plan(ARM, None, ("type=gha,scope={platform}",), ("type=gha,mode=max,scope={platform}",),
               registry_export=False)
    assert got == CachePlan(("type=gha,scope=linux-arm-v7",),
                            ("type=gha,mode=max,scope=linux-arm-v7",), None)


def test_a_made_base_travels_under_a_tag_of_its_own() -> None:
    assert base_tag("127.0.0.1:5000/cache",
                    "harness.invalid/base/debian:bookworm-slim-linux-arm64") == \
        "127.0.0.1:5000/cache:base-debian-bookworm-slim-linux-arm64"


@pytest.mark.parametrize("ref", ["cache", "ghcr.io/team/cache:v1", "ghcr.io/team/cache@sha256:"
                                 + "a" * 64, "https://ghcr.io/team/cache"])
def test_a_cache_is_a_repository_of_a_registry(ref: str) -> None:
    with pytest.raises(UsageError, match="--cache"):
        check_repository(ref)
    assert check_repository("ghcr.io/team/cache") == "ghcr.io/team/cache"
