"""The questions and how their answers are read (harness.containers.questions), against the
fake engine: an answer parsed, a silent answer asked once more, a missing command absent."""

from __future__ import annotations

from harness.containers import questions
from harness.containers.probe_container import ImageProbe
from harness.core.answers import observation as obs
from harness.core.platforms.table import parse_platform
from tests.fake_engine import FakeEngine

ARM64 = parse_platform("linux/arm64")


def test_an_answer_is_read_by_its_sources_parser(fake: FakeEngine) -> None:
    fake.image("app:1", arch="arm64")
    fake.exec_output = [(1, b"arm64\n")]
    with ImageProbe(fake.client(), "app:1", ARM64) as probe:
        seen = questions.answer(probe, "dpkg", ["dpkg", "--print-architecture"],
                                obs.READERS["dpkg"])
    assert (seen.source, seen.value, seen.error) == ("dpkg", "arm64", None)
    assert "linux/arm64" in seen.fits
    assert len(fake.execs) == 1


def test_a_built_in_source_that_says_nothing_is_asked_once_more(fake: FakeEngine) -> None:
    """A lost exec (seen on Docker 20.10 under load): every built-in source prints its
    answer or why it has none."""
    fake.image("app:1", arch="arm64")
    fake.exec_output = [(1, b"")]
    with ImageProbe(fake.client(), "app:1", ARM64) as probe:
        questions.answer(probe, "uname", ["uname", "-m"], obs.READERS["uname"])
    assert [e["Cmd"] for e in fake.execs.values()] == [["uname", "-m"], ["uname", "-m"]]


def test_a_command_the_image_does_not_have_is_absent(fake: FakeEngine) -> None:
    fake.image("app:1", arch="arm64")
    fake.exec_output = [(1, b"sh: rpm: not found\n")]
    fake.exec_code = 127
    with ImageProbe(fake.client(), "app:1", ARM64) as probe:
        seen = questions.answer(probe, "rpm", ["rpm", "--eval", "%{_arch}"],
                                obs.READERS["rpm"])
    assert seen.absent and seen.error is None
    # asked where it is: `command -v` found no file
    assert ["sh", "-c", "command -v rpm"] in [e["Cmd"] for e in fake.execs.values()]


def test_the_userland_is_the_first_package_manager_that_answers() -> None:
    asked: list[str] = []

    def ask(source: str) -> obs.Observation:
        asked.append(source)
        return obs.apk("aarch64\n") if source == "apk" else obs.absent(source)

    found = questions.userland(ask)
    assert asked == ["dpkg", "apk"] and [o.source for o in found] == ["dpkg", "apk"]
