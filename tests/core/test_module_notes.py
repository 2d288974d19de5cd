"""The native-modules source's findings, judged from each module's loads
(harness.core.answers.module_notes)."""

from __future__ import annotations

import pytest

from harness.core.answers import module_loaders, module_notes
from harness.core.answers.extensions import Finder, Module
from harness.core.answers.module_loaders import Load
from harness.core.answers.module_notes import Outcome
from harness.core.failures.diagnosis import clean

SITE = "/opt/venv/lib/python3.11/site-packages"
ELF_SO = bytes.fromhex("7f454c46020101000000000000000000") + (3).to_bytes(2, "little") + \
    (62).to_bytes(2, "little") + b"\0" * 44  # ELF64, ET_DYN, x86-64

AVX = Module(f"{SITE}/fast/_speed.so", "fast._speed", SITE, "/opt/venv/bin/python", "fast",
             "2.0.1")


def _judge(*outcomes: Outcome, platform: str = "linux/amd64") -> list[module_notes.Note]:
    return module_notes.judge(platform, module_notes.detail(list(outcomes), "qemu64", 1, 0.5))


def test_a_module_that_dies_on_the_baseline_needs_a_later_cpu() -> None:
    found = _judge(Outcome(AVX, Load("ok"), Load("illegal", "died by an illegal instruction"),
                           "linux/amd64/v3"))
    assert [f.kind for f in found] == ["broken"]
    assert "needs a later CPU than linux/amd64" in found[0].message
    assert "fast 2.0.1 (fast._speed, " in found[0].message
    assert "loads on linux/amd64/v3's CPU, Haswell-noTSX" in found[0].message
    assert found[0].fix.startswith("pin a release")
    assert found[0].fix.endswith("publish this image for linux/amd64/v3")


def test_raised_on_the_baseline_only_is_the_cpu_too() -> None:
    """NumPy's own check: `RuntimeError: NumPy was built with baseline optimizations ...`."""
    found = _judge(Outcome(AVX, Load("ok"), Load("raised", "RuntimeError: AVX2"), "none"))
    assert [f.kind for f in found] == ["broken"]
    assert "loads on none of the later CPUs" in found[0].message
    assert "publish this image for the later CPU level" in found[0].fix


def test_cannot_load_names_the_loader_message() -> None:
    found = _judge(Outcome(AVX, Load("loader", "ImportError: x.so: undefined symbol: foo")))
    assert [f.kind for f in found] == ["broken"]
    assert "cannot load on linux/amd64" in found[0].message
    assert "undefined symbol: foo" in found[0].message


def test_an_ordinary_exception_on_both_cpus_is_a_warning_only() -> None:
    found = _judge(Outcome(AVX, Load("raised", "RuntimeError: no display"),
                           Load("raised", "RuntimeError: no display")),
                   Outcome(AVX, Load("ok"), Load("ok")), Outcome(AVX, Load("suffix")))
    assert [f.kind for f in found] == ["absent"]
    assert "no display" in found[0].message and "a warning" in found[0].message


def test_raised_on_the_platform_and_illegal_on_the_baseline_fails() -> None:
    found = _judge(Outcome(AVX, Load("raised", "KeyError: 'HOME'"),
                           Load("illegal", "died by an illegal instruction"), "linux/amd64/v2"))
    assert [f.kind for f in found] == ["broken"]
    assert found[0].fix.endswith("publish this image for linux/amd64/v2")


def test_no_answer_on_the_baseline_is_the_machine_s() -> None:
    for status in ("timeout", "no-python"):
        found = _judge(Outcome(AVX, Load("ok"), Load(status, "slow")))
        assert [f.kind for f in found] == ["error"], status


def test_everything_loaded_says_nothing() -> None:
    outcomes = [Outcome(AVX, Load("ok"), Load("ok")), Outcome(AVX, Load("library"), None)]
    assert _judge(*outcomes) == []
    assert module_notes.summary(module_notes.detail(outcomes, "qemu64", 1, 0.1)) == \
        "2 native modules, 2 loaded on the platform"
    later = module_notes.detail([Outcome(AVX, Load("ok"), Load("illegal"), "linux/amd64/v3")],
                          "qemu64", 1, 0.1)
    assert module_notes.summary(later) == \
        "1 native module, 1 loaded on the platform, 1 not on its baseline CPU (qemu64)"


def test_messages_are_bounded_and_escaped() -> None:
    evil = "\x1b[2J" + "x" * 10_000
    found = _judge(Outcome(AVX, Load("loader", clean(evil, module_loaders.MESSAGE_LIMIT))))
    assert "\x1b" not in found[0].message and len(found[0].message) < 2000


@pytest.mark.parametrize("levels,lowest", [(["linux/amd64/v2", "linux/amd64/v3"],
                                            "linux/amd64/v3"),
                                           (["linux/amd64/v2", "none"], "")])
def test_the_image_needs_the_highest_of_its_modules_levels(levels: list[str],
                                                            lowest: str) -> None:
    assert module_notes.lowest([{"level": lv} for lv in levels]) == lowest


# -- Node addons -------------------------------------------------------------------------------


def test_a_finding_names_each_module_up_to_its_bound() -> None:
    many = [Outcome(Module(f"{SITE}/m{i}.so", f"m{i}", SITE, "/py", f"d{i}", "1"),
                    Load("loader", "ImportError: undefined symbol: x")) for i in range(25)]
    [found] = _judge(*many)
    assert all(f"d{i} 1 (m{i}, " in found.message for i in range(module_notes.SHOWN))
    assert f"d{module_notes.SHOWN} 1" not in found.message
    assert found.message.endswith("; and 5 more (report.json lists them)")


def test_a_module_the_audit_found_foreign_is_named_so_not_by_the_loader() -> None:
    """glibc's loader says "cannot open shared object file: No such file or directory" of an
    addon of another machine that is there: the audit's own reason says what it is, and
    nothing is loaded to learn it."""
    found = Finder()
    addon = "/app/node_modules/somepkg/build/Release/addon.node"
    found.elf(addon, ELF_SO)
    found.text("/app/node_modules/somepkg/package.json", b'{"name": "somepkg", "version": "1"}')
    [module] = found.modules({"/usr/bin/node"}, {addon: "ELF 64-bit LSB AArch64"})
    assert module.foreign == "ELF 64-bit LSB AArch64"
    said = module_loaders.foreign_load(module, "linux/amd64")
    assert said is not None and not said.loaded
    assert said.describe() == ("foreign: the file is not linux/amd64 (ELF 64-bit LSB "
                               "AArch64): no loader of linux/amd64 can load it")
    data = module_notes.detail([module_notes.Outcome(module, said)], "qemu64", 1, 0.1)
    assert data.cannot_load_count == 1
    [note] = module_notes.judge("linux/amd64", data)
    assert note.kind == "broken" and "somepkg 1 (somepkg/build/Release/addon.node, " \
        f"{addon}): the file is not linux/amd64 (ELF 64-bit LSB AArch64)" in note.message
    [plain] = found.modules({"/usr/bin/node"})
    assert plain.foreign == "" and module_loaders.foreign_load(plain, "linux/amd64") is None
