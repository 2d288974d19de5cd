"""The built-in checks ``multiarch-harness build`` (and ``nox -s build``) runs for every
platform of the image, and the checks declared in ``[tool.harness.checks]``.

Each test reads one source of what the image is and asserts that it agrees with the platform
the image was built for. All of them share one build and one probe run per platform (the
``built`` and ``checked`` fixtures of ``harness.plugin.fixtures``); the verdicts and reports
come from the same judgement, so the JUnit XML and report.json never disagree.
"""

from __future__ import annotations

import pytest

from harness.containers.pipeline import Built
from harness.core.diagnosis import clean
from harness.plugin.fixtures import Agrees


def test_builds(built: Built) -> None:
    """The Dockerfile builds for the platform (log: report-dir/logs/PLATFORM-build.log)."""
    if built.error is not None:
        tail = getattr(built.error, "log_tail", "")
        # The build's output is the image's: escaped and bounded before it is shown.
        shown = "\n".join(clean(line, 300) for line in tail.splitlines()[-25:])
        pytest.fail(f"{built.error}\n{shown}", pytrace=False)


def test_image_config_is_platform(agrees: Agrees) -> None:
    agrees("config")


def test_userland_dpkg_is_platform(agrees: Agrees) -> None:
    agrees("dpkg")


def test_shell_binary_is_platform(agrees: Agrees) -> None:
    agrees("sh-elf")


def test_word_size_is_platform(agrees: Agrees) -> None:
    agrees("getconf")


def test_uname_is_platform(agrees: Agrees) -> None:
    agrees("uname")


def test_rustc_host_is_platform(agrees: Agrees) -> None:
    agrees("rustc")


def test_rustc_binary_is_platform(agrees: Agrees) -> None:
    agrees("rustc-elf")


def test_cargo_runs(agrees: Agrees) -> None:
    agrees("cargo")


def test_hello_world_compiles_and_runs(agrees: Agrees) -> None:
    agrees("hello")


def test_hello_world_binary_is_platform(agrees: Agrees) -> None:
    agrees("hello-elf")


def test_every_elf_file_is_platform(agrees: Agrees) -> None:
    """Every executable and shared object in the image is of the platform (or where foreign
    code is expected: --allow-foreign, Debian's multiarch and cross directories)."""
    agrees("elf-audit")


def test_declared_check(agrees: Agrees, declared_check: str) -> None:
    """A check of [tool.harness.checks]: its command, run in the image, prints what it
    expects for the platform."""
    agrees(declared_check)
