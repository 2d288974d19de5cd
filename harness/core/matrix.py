"""The platforms as a GitHub Actions matrix: one job per platform, on a native runner where
GitHub offers one, for ``fromJSON``. 32-bit arm goes to x86_64 under QEMU: GitHub's arm64
runners (and other clouds' arm64 machines) have CPUs without AArch32, and Debian's
qemu-user-static registers no arm handler on an arm64 host. Pure."""

from __future__ import annotations

from typing import Any

from harness.core.platforms import Platform

X86_RUNNER = "ubuntu-24.04"
ARM_RUNNER = "ubuntu-24.04-arm"


def runner_for(platform: Platform) -> str:
    """The GitHub-hosted runner a platform builds on: its own architecture where there is
    one (arm64 only: not 32-bit arm, which those CPUs do not execute), else x86_64 (under
    QEMU)."""
    return ARM_RUNNER if platform.architecture == "arm64" else X86_RUNNER


def matrix(platforms: list[Platform], runners: dict[str, str] | None = None
           ) -> dict[str, Any]:
    """The matrix; ``runners`` (platform name -> label) replaces the hosted runner of a
    platform (arm runners are not offered to every repository)."""
    chosen = runners or {}
    return {"include": [{"platform": p.name, "slug": p.slug,
                         "runner": chosen.get(p.name) or runner_for(p)} for p in platforms]}
