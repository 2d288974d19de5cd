"""How a source's findings become a JUnit outcome: a source that does not apply, and one
that was not asked because another answered."""

from __future__ import annotations

import pytest

from harness.containers.pipeline import Checked
from harness.core.answers import observation as obs
from harness.core.judging.verdicts import judge
from harness.core.outcomes import RunMode
from harness.core.platforms.table import parse_platform
from harness.plugin.fixtures import expect


def checked(name: str) -> Checked:
    platform = parse_platform(name)
    seen = [obs.dpkg("arm64\n" if name == "linux/arm64" else "i386\n"),
            *obs.not_applicable(platform)]
    return Checked(platform, judge(platform, seen, "x86_64", RunMode("qemu")), seen)


@pytest.mark.parametrize("name", ["linux/arm64", "linux/386"])
def test_a_source_that_does_not_apply_is_skipped_as_not_applicable(name: str) -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        expect(checked(name), "isa")
    assert skipped.value.msg.startswith(f"not applicable to {name}: "), skipped.value.msg
    assert "another source answered" not in skipped.value.msg


def test_a_userland_not_asked_is_skipped_as_another_source_answered() -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        expect(checked("linux/arm64"), "apk")
    assert "another source answered for it" in skipped.value.msg
