"""The order of the questions (harness.containers.probes): a command source added to the table
is asked with no line of the probe's own, and its answer read by its reader in the core."""

from __future__ import annotations

import dataclasses

import pytest

from harness.containers import probes
from harness.core.answers import observation as obs
from harness.core.answers import sources
from harness.core.answers.sources import Source

ASKED = [obs.dpkg("arm64"), obs.uname("aarch64"), obs.getconf("64"), obs.rustc(""),
         obs.cargo("cargo 1.0")]


def test_every_built_in_command_source_is_asked_by_the_probe_s_own_lines() -> None:
    assert probes.unasked(ASKED) == []


def test_a_new_command_source_is_asked_after_the_others(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    new = Source("python", "the image's python3 runs", ("python3", "--version"), maps=False)
    monkeypatch.setattr(sources, "BUILTIN", (*sources.BUILTIN, new))
    assert probes.unasked(ASKED) == ["python"]
    assert probes.unasked([*ASKED, dataclasses.replace(obs.cargo("x"), source="python")]) == []


def test_a_userland_another_answered_for_is_not_asked_again() -> None:
    assert "apk" not in probes.unasked(ASKED) and "rpm" not in probes.unasked(ASKED)


def test_every_command_source_has_its_reader_in_the_core() -> None:
    commands = {s.name for s in sources.BUILTIN if s.command}
    assert commands == set(obs.READERS)
