"""Audits kept by image ID: the key names everything the answer depends on."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.machine import emulators, host, kept


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


def test_the_answers_key_changes_with_how_the_image_ran_the_engine_and_the_machine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ran, engine = {"run_as": "linux/arm64", "mode": "qemu"}, {"version": "20.10.24"}
    base = kept.answers_key("sha256:aa", "linux/arm64", ran, engine)
    assert base == kept.answers_key("sha256:aa", "linux/arm64", dict(ran), dict(engine))
    others = {kept.answers_key("sha256:bb", "linux/arm64", ran, engine),
              kept.answers_key("sha256:aa", "linux/arm/v7", ran, engine),
              kept.answers_key("sha256:aa", "linux/arm64", {**ran, "timeout": 5.0}, engine),
              kept.answers_key("sha256:aa", "linux/arm64", ran, {"version": "29.0.0"})}
    assert len(others | {base}) == 5
    monkeypatch.setattr(kept, "machine", lambda: {"kernel": ["Linux", "another kernel"]})
    assert kept.answers_key("sha256:aa", "linux/arm64", ran, engine) != base


def test_the_machine_names_its_kernel_cpu_and_every_emulator_with_its_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    qemu = tmp_path / "qemu-aarch64"
    qemu.write_bytes(b"one QEMU")
    handler = host.Handler("qemu-aarch64", True, str(qemu), "F", 0, b"\x7fELF", b"")
    monkeypatch.setattr(host, "read_handlers", lambda: [handler])
    before = kept.machine()
    assert before["kernel"] == list(os.uname())
    assert before["handlers"]["qemu-aarch64"][-1][0] == str(qemu)
    assert kept.machine() == before
    qemu.write_bytes(b"an upgraded QEMU")  # another size, another time: another emulator
    assert kept.machine() != before
    monkeypatch.setattr(host, "read_handlers",
                        lambda: [handler, host.Handler("qemu-arm", True, str(qemu), "F", 0,
                                                       b"\x7fELF", b"")])
    assert set(kept.machine()["handlers"]) == {"qemu-aarch64", "qemu-arm"}
    # The second QEMU a crash is asked again under, once fetched, is part of the machine.
    monkeypatch.setattr(emulators, "cache_dir", lambda: tmp_path / "second")
    before = kept.machine()
    (tmp_path / "second").mkdir()
    (tmp_path / "second" / "qemu-aarch64").write_bytes(b"trixie's QEMU")
    assert list(kept.machine()["second"]) == ["qemu-aarch64"] != list(before["second"])


def test_a_missing_interpreter_is_a_stamp_of_its_own(tmp_path: Path) -> None:
    assert kept.file_stamp(str(tmp_path / "gone")) is None
    real = tmp_path / "real"
    real.write_bytes(b"x")
    (tmp_path / "link").symlink_to(real)
    assert kept.file_stamp(str(tmp_path / "link")) == kept.file_stamp(str(real))
