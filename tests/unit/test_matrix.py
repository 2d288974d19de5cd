"""The CI matrix: one job per platform, on a runner of its own architecture where GitHub has
one."""

from __future__ import annotations

from harness.core.matrix import ARM_RUNNER, X86_RUNNER, matrix
from harness.core.platforms import parse_platforms


def test_each_platform_is_a_job_on_a_native_runner_where_there_is_one() -> None:
    got = matrix(parse_platforms(["linux/amd64", "linux/386", "linux/arm64", "linux/arm/v7",
                                  "linux/riscv64"]))
    assert got == {"include": [
        {"platform": "linux/amd64", "slug": "linux-amd64", "runner": X86_RUNNER},
        {"platform": "linux/386", "slug": "linux-386", "runner": X86_RUNNER},
        {"platform": "linux/arm64", "slug": "linux-arm64", "runner": ARM_RUNNER},
        {"platform": "linux/arm/v7", "slug": "linux-arm-v7", "runner": ARM_RUNNER},
        {"platform": "linux/riscv64", "slug": "linux-riscv64", "runner": X86_RUNNER},
    ]}
