"""Audits kept by image ID: the key names everything the answer depends on."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.machine import kept


def test_the_key_changes_with_the_image_the_platform_and_the_allow_list() -> None:
    base = kept.key("sha256:aa", "linux/arm64", ())
    assert base == kept.key("sha256:aa", "linux/arm64", ())
    assert len({base, kept.key("sha256:bb", "linux/arm64", ()),
                kept.key("sha256:aa", "linux/arm/v7", ()),
                kept.key("sha256:aa", "linux/arm64", ("/opt/*",))}) == 4


def test_the_key_changes_with_the_harness_code(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    before = kept.key("sha256:aa", "linux/arm64", ())
    monkeypatch.setattr(kept, "code_digest", lambda: "another harness")
    assert kept.key("sha256:aa", "linux/arm64", ()) != before


def test_what_is_stored_is_read_back_and_garbage_is_not(tmp_path: Path) -> None:
    data = [{"source": "elf-audit", "raw": "902 ELF files", "detail": {"files": 902}}]
    kept.store("k1", data, tmp_path)
    assert kept.load("k1", tmp_path) == data
    assert kept.load("never", tmp_path) is None
    (tmp_path / "k2.json").write_text("{not json")
    assert kept.load("k2", tmp_path) is None
    (tmp_path / "k3.json").write_text('{"a": 1}')  # not a list of observations
    assert kept.load("k3", tmp_path) is None


def test_only_the_newest_answers_are_kept(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept, "KEPT_FILES", 3)
    for i in range(5):
        kept.store(f"k{i}", [{"source": "elf-audit"}], tmp_path)
        stamp = time.time() - 100 + i
        os.utime(tmp_path / f"k{i}.json", (stamp, stamp))
    kept.store("k5", [{"source": "elf-audit"}], tmp_path)
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == ["k3", "k4", "k5"]


def test_a_cache_that_cannot_be_written_is_no_cache(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the directory would be")
    kept.store("k", [{"source": "elf-audit"}], blocked)  # no exception
    assert kept.load("k", blocked) is None
