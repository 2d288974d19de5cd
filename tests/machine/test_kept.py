"""Audits kept by image ID: the key names everything the answer depends on."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.core import jsondoc
from harness.core.answers import observation as obs
from harness.core.declared.usercheck import DeclaredCheck
from harness.core.platforms.table import parse_platform
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


def _answers() -> list[dict[str, object]]:
    """A kept run of an image with a foreign binary: its config, and the audit that found it."""
    seen = [obs.config("linux", "arm64", None),
            obs.Observation("dpkg", "arm64\n", ("linux/arm64",), "arm64", output="arm64\n"),
            obs.Observation("elf-audit", "1 foreign", (), "1 foreign",
                            detail={"count": 1, "foreign": ["/bin/x: x86-64"]})]
    return [{**o.to_dict(), "output": o.output} for o in seen]


def _rewrite(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    entry = json.loads(path.read_text())
    change(entry)
    path.write_text(json.dumps(entry))


def test_kept_answers_read_back_whole_and_as_they_were(tmp_path: Path) -> None:
    kept.store("k", _answers(), tmp_path)
    back = kept.load("k", tmp_path)
    assert back is not None and len(back) == 3
    assert [obs.Observation.from_dict(d) for d in back or []] == \
        [obs.Observation.from_dict(d) for d in _answers()]


def test_every_kind_of_answer_a_run_keeps_reads_back_as_it_was(tmp_path: Path) -> None:
    check = DeclaredCheck("arch", ("uname", "-m"), "{uname}", same=True)
    seen = [obs.config("linux", "arm", "v7"), obs.rustc("host: armv7-unknown-linux-gnueabihf\n"),
            obs.packages("dpkg", "ii  libc6:armhf 2.36-9 armhf\n"),
            obs.declared(check, "armv7l\n", parse_platform("linux/arm/v7")),
            obs.baseline_cpu("cortex-a7", "ARMv7", [("uname -m", 0, False)], "armv7l"),
            obs.test_outcome("cst:t.yaml::x", "command", ["exit 1"]), obs.absent("rpm")]
    kept.store("k", [{**o.to_dict(), "output": o.output} for o in seen], tmp_path)
    back = kept.load("k", tmp_path)
    assert back is not None
    assert [obs.Observation.from_dict(d) for d in back] == seen


def test_a_kept_entry_cut_down_to_its_first_observation_is_asked_again(tmp_path: Path) -> None:
    kept.store("k", _answers(), tmp_path)
    # Cut as a full disk or a killed writer of another tool would: the config's answer
    # alone judges as a pass, the foreign binary unseen.
    _rewrite(tmp_path / "k.json", lambda e: e.update(observations=e["observations"][:1]))
    assert kept.load("k", tmp_path) is None


def test_a_kept_entry_that_is_a_bare_list_is_asked_again(tmp_path: Path) -> None:
    (tmp_path / "k.json").write_text(json.dumps(_answers()[:1]))  # no checksum of its own
    assert kept.load("k", tmp_path) is None


def test_a_kept_entry_with_a_bad_checksum_is_asked_again(tmp_path: Path) -> None:
    kept.store("k", _answers(), tmp_path)
    _rewrite(tmp_path / "k.json", lambda e: e["observations"][2]["detail"].update(count=0))
    assert kept.load("k", tmp_path) is None


@pytest.mark.parametrize(("field", "value"), [
    ("detail", "not an object"), ("fits", "linux/arm64"), ("kind", "no such kind"),
    ("raw", 12), ("source", None), ("extra", 1)])
def test_a_kept_entry_of_the_wrong_shape_is_asked_again_even_with_its_checksum(
        tmp_path: Path, field: str, value: object) -> None:
    kept.store("k", _answers(), tmp_path)

    def change(entry: dict[str, Any]) -> None:
        entry["observations"][0][field] = value
        entry["sha256"] = hashlib.sha256(
            jsondoc.canonical(entry["observations"]).encode()).hexdigest()

    _rewrite(tmp_path / "k.json", change)
    assert kept.load("k", tmp_path) is None


def test_a_kept_entry_too_deep_or_too_big_is_asked_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    assert kept.load("deep", tmp_path) is None
    kept.store("big", _answers(), tmp_path)
    monkeypatch.setattr(kept, "KEPT_BYTES", 100)
    assert kept.load("big", tmp_path) is None
    kept.store("bigger", _answers(), tmp_path)  # never kept: it could not be read back
    assert not (tmp_path / "bigger.json").exists()
