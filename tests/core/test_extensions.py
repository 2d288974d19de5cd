"""Native modules found from the audit's pass and judged from their loads
(harness.core.extensions)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core import extensions
from harness.core.extensions import Finder, Load, Module, Outcome

SITE = "/opt/venv/lib/python3.11/site-packages"
ELF_SO = bytes.fromhex("7f454c46020101000000000000000000") + (3).to_bytes(2, "little") + \
    (62).to_bytes(2, "little") + b"\0" * 44  # ELF64, ET_DYN, x86-64
ELF_EXEC = ELF_SO[:16] + (2).to_bytes(2, "little") + ELF_SO[18:]


def test_import_names_from_each_suffix() -> None:
    assert extensions.import_name(f"{SITE}/foo.cpython-311-x86_64-linux-gnu.so", SITE) == "foo"
    assert extensions.import_name(f"{SITE}/pkg/sub/_c.abi3.so", SITE) == "pkg.sub._c"
    assert extensions.import_name(f"{SITE}/bar.so", SITE) == "bar"
    # Libraries a wheel vendors: no import names them (they are loaded by the modules).
    assert extensions.import_name(f"{SITE}/numpy.libs/libopenblas64_p-r0-1a2b.3.21.so",
                              SITE) is None
    assert extensions.import_name(f"{SITE}/pkg/libfoo-1.2.so", SITE) is None
    assert extensions.import_name(f"{SITE}/pkg/libfoo.so.1", SITE) is None


def test_the_innermost_site_directory_is_the_root() -> None:
    assert extensions.site_root(f"{SITE}/a/b.so") == SITE
    assert extensions.site_root("/usr/lib/python3/dist-packages/numpy/core/x.so") == \
        "/usr/lib/python3/dist-packages"
    assert extensions.site_root("/usr/lib/x86_64-linux-gnu/libc.so.6") is None
    assert extensions.site_root("/srv/site-packages") is None  # the directory itself


def test_interpreters_venv_first_then_the_image_python() -> None:
    paths = {"/opt/venv/pyvenv.cfg", "/opt/venv/bin/python", "/usr/bin/python3.11",
             "/usr/bin/python3", "/usr/local/bin/python3.12"}
    assert extensions.interpreter(SITE, paths) == "/opt/venv/bin/python"
    assert extensions.interpreter("/usr/lib/python3/dist-packages", paths) == "/usr/bin/python3"
    assert extensions.interpreter("/usr/local/lib/python3.11/dist-packages", paths) == \
        "/usr/bin/python3.11"  # Debian's pip installs there for Debian's python3.11
    assert extensions.interpreter("/usr/local/lib/python3.12/site-packages", paths) == \
        "/usr/local/bin/python3.12"  # the python image's own
    assert extensions.interpreter("/usr/lib/python3.9/site-packages", paths) is None
    # A venv's modules are not imported by the image's python: without its own, none.
    assert extensions.interpreter("/srv/env/lib/python3.11/site-packages",
                              {"/srv/env/pyvenv.cfg", "/usr/bin/python3.11"}) is None


def test_modules_are_mapped_to_their_distribution() -> None:
    found = Finder()
    so = f"{SITE}/fast/_speed.cpython-311-x86_64-linux-gnu.so"
    for path, head in ((so, ELF_SO), (f"{SITE}/fast/tool.so", ELF_EXEC),
                       (f"{SITE}/fast/notelf.so", b"#!/bin/sh\n" + b"\0" * 64),
                       ("/usr/lib/x86_64-linux-gnu/libz.so", ELF_SO),
                       ("/usr/lib/python3/dist-packages/egg/_e.so", ELF_SO),
                       ("/usr/lib/python3/dist-packages/loose.so", ELF_SO)):
        found.elf(path, head)
    assert extensions.wanted(f"{SITE}/fast-2.0.1.dist-info/RECORD")
    assert not extensions.wanted("/srv/fast-2.0.1.dist-info/RECORD")
    assert not extensions.wanted(f"{SITE}/fast/RECORD")
    found.text(f"{SITE}/fast-2.0.1.dist-info/RECORD",
               b"fast/__init__.py,sha256=x,10\n"
               b"fast/_speed.cpython-311-x86_64-linux-gnu.so,sha256=y,99\n"
               b'"../../../bin/fast,odd",,\n')
    found.text("/usr/lib/python3/dist-packages/egg-1.24.2.egg-info/top_level.txt", b"egg\n")
    paths = {"/opt/venv/pyvenv.cfg", "/opt/venv/bin/python", "/usr/bin/python3"}
    assert found.modules(paths) == [
        Module(so, "fast._speed", SITE, "/opt/venv/bin/python", "fast", "2.0.1"),
        Module("/usr/lib/python3/dist-packages/egg/_e.so", "egg._e",
               "/usr/lib/python3/dist-packages", "/usr/bin/python3", "egg", "1.24.2"),
        Module("/usr/lib/python3/dist-packages/loose.so", "loose",
               "/usr/lib/python3/dist-packages", "/usr/bin/python3"),
    ]


def test_skip_by_name_prefix_or_distribution() -> None:
    mods = [Module("/a.so", "pkg._a", SITE, "/py", "pkg", "1"),
            Module("/b.so", "pkgx", SITE, "/py", "other", "1"),
            Module("/c.so", "gui.qt", SITE, "/py2", "gui", "1")]
    assert extensions.by_interpreter(mods, ["pkg"]) == {"/py": [mods[1]], "/py2": [mods[2]]}
    assert extensions.by_interpreter(mods, ["gui", "other"]) == {"/py": [mods[0]]}


@given(st.text(max_size=300))
def test_any_output_parses_to_a_batch(text: str) -> None:
    batch = extensions.parse(text, "M")
    assert batch.started is None or isinstance(batch.started, int)


def test_a_death_is_named_by_its_signal() -> None:
    assert extensions.death(132, "", 20).status == "illegal"
    assert extensions.death(139, "qemu: uncaught target signal 4 (Illegal instruction)", 20
                        ).status == "illegal"
    assert extensions.death(128 + 14, "", 20) == Load("timeout",
                                                  "did not finish loading within 20 s")
    assert extensions.death(139, "", 20) == Load("crashed", "killed the interpreter (SIGSEGV)")
    assert extensions.death(3, "", 20).status == "exited"


def test_later_levels_are_the_known_cpus_above() -> None:
    assert extensions.later_levels("linux/amd64") == ["linux/amd64/v2", "linux/amd64/v3"]
    assert extensions.later_levels("linux/arm/v6") == ["linux/arm/v7"]
    assert extensions.later_levels("linux/amd64/v3") == []


def _run_loader(tmp_path: Path, files: dict[str, str], names: list[str],
                limit: int = 5) -> tuple[extensions.Batch, int, str]:
    """LOADER run by this machine's Python over modules written to ``tmp_path``: the same
    script the probes pass to an image's Python."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    mods = [Module(str(tmp_path / f"{n.replace('.', '/')}{suffix}"), n, str(tmp_path), "py")
            for n in names]
    proc = subprocess.run([sys.executable, "-c", extensions.LOADER, "MARK", str(limit),
                           *extensions.args(mods)], capture_output=True, text=True, timeout=60)
    return extensions.parse(proc.stdout, "MARK"), proc.returncode, proc.stdout


def test_the_loader_names_what_each_import_did(tmp_path: Path) -> None:
    """Not-an-extension files named like one: LOADER's own protocol and classification
    (ordinary exceptions, the loader's ImportError, a module the process cannot survive)."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    batch, status, out = _run_loader(tmp_path, {
        f"bad{suffix}": "not an ELF file",  # the loader's own: invalid ELF header
        "wants/__init__.py": "raise RuntimeError('no display')",
        f"wants/_x{suffix}": "",
        f"odd{suffix}.txt": "",
    }, ["bad", "wants._x"])
    assert (batch.ready, batch.done, status) == (True, True, 0), out
    assert batch.loads[0].status == "loader" and "bad" in batch.loads[0].message
    assert batch.loads[1] == Load("raised", "RuntimeError: no display")


def test_a_module_that_ends_the_interpreter_is_the_one_under_way(tmp_path: Path) -> None:
    batch, status, _ = _run_loader(tmp_path, {
        "ok/__init__.py": "", "ends/__init__.py": "import os; os.kill(os.getpid(), 11)",
    }, ["ends._a", "ok._b"])
    assert batch.started == 0 and not batch.done and 0 not in batch.loads
    assert extensions.death(status if status >= 0 else 128 - status, "", 5).status == "crashed"


def test_a_hang_is_ended_by_its_limit(tmp_path: Path) -> None:
    batch, status, _ = _run_loader(tmp_path, {
        "hangs/__init__.py": "while True: pass"}, ["hangs._a"], limit=1)
    assert batch.started == 0 and not batch.done
    assert extensions.death(128 - status, "", 1).status == "timeout"


# -- judging ---------------------------------------------------------------------------------

AVX = Module(f"{SITE}/fast/_speed.so", "fast._speed", SITE, "/opt/venv/bin/python", "fast",
             "2.0.1")


def _judge(*outcomes: Outcome, platform: str = "linux/amd64") -> list[extensions.Note]:
    return extensions.judge(platform, extensions.detail(list(outcomes), "qemu64", 1, 0.5))


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
    assert extensions.summary(extensions.detail(outcomes, "qemu64", 1, 0.1)) == \
        "2 native modules, 2 loaded on the platform"
    later = extensions.detail([Outcome(AVX, Load("ok"), Load("illegal"), "linux/amd64/v3")],
                          "qemu64", 1, 0.1)
    assert extensions.summary(later) == \
        "1 native module, 1 loaded on the platform, 1 not on its baseline CPU (qemu64)"


def test_messages_are_bounded_and_escaped() -> None:
    evil = "\x1b[2J" + "x" * 10_000
    found = _judge(Outcome(AVX, Load("loader", extensions.clean(evil, extensions.MESSAGE_LIMIT))))
    assert "\x1b" not in found[0].message and len(found[0].message) < 2000


@pytest.mark.parametrize("levels,lowest", [(["linux/amd64/v2", "linux/amd64/v3"],
                                            "linux/amd64/v3"),
                                           (["linux/amd64/v2", "none"], "")])
def test_the_image_needs_the_highest_of_its_modules_levels(levels: list[str],
                                                            lowest: str) -> None:
    assert extensions.lowest([{"level": lv} for lv in levels]) == lowest


# -- Node addons -------------------------------------------------------------------------------

def test_node_addons_are_mapped_to_the_nearest_package() -> None:
    found = Finder()
    mods = "/app/node_modules"
    addon = f"{mods}/bcrypt/lib/binding/napi-v3/bcrypt_lib.node"
    nested = f"{mods}/a/node_modules/b/build/Release/b.node"
    for path in (addon, nested, f"{mods}/x/readme.node", "/srv/plain.node"):
        found.elf(path, ELF_SO if "readme" not in path else b"# not ELF" + b"\0" * 64)
    assert extensions.wanted(f"{mods}/bcrypt/package.json")
    assert not extensions.wanted("/app/package.json")
    found.text(f"{mods}/bcrypt/package.json", b'{"name": "bcrypt", "version": "5.1.1"}')
    found.text(f"{mods}/bcrypt/lib/binding/package.json", b'{"private": true}')  # no name
    found.text(f"{mods}/a/node_modules/b/package.json", b'{"name": "b", "version": 3}')
    found.text(f"{mods}/a/package.json", b"[not, json")
    assert found.modules({"/usr/bin/node"}) == [
        Module(nested, "b/build/Release/b.node", f"{mods}/a/node_modules", "/usr/bin/node",
               "b", "", "node"),
        Module(addon, "bcrypt/lib/binding/napi-v3/bcrypt_lib.node", mods, "/usr/bin/node",
               "bcrypt", "5.1.1", "node"),
    ]
    assert found.modules(set()) == []  # no node in the image: nothing can load them
    assert found.modules({"/usr/bin/node"})[0].command[:2] == ["/usr/bin/node", "-e"]


NAPI_ADDON = """
#include <node_api.h>
static napi_value init(napi_env env, napi_value exports) { return exports; }
NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
"""


@pytest.mark.skipif(not (shutil.which("node") and shutil.which("gcc")
                         and Path("/usr/include/node/node_api.h").exists()),
                    reason="needs node, its headers and gcc on this machine")
def test_the_node_loader_names_what_each_addon_did(tmp_path: Path) -> None:
    """Real addons compiled here, loaded by this machine's node with NODE_LOADER: a good one,
    a library that registers no module, a file that is no ELF, and one whose constructor
    never returns (the watchdog ends it; the batch is read up to it)."""
    sources = {"ok": NAPI_ADDON, "lib": "int value = 1;\n",
               "hang": "__attribute__((constructor)) static void f(void) { for (;;) {} }\n"}
    for name, text in sources.items():
        (tmp_path / f"{name}.c").write_text(text)
        subprocess.run(["gcc", "-shared", "-fPIC", "-I/usr/include/node",
                        f"-DNODE_GYP_MODULE_NAME={name}", "-o", str(tmp_path / f"{name}.node"),
                        str(tmp_path / f"{name}.c")], check=True)
    (tmp_path / "text.node").write_text("not an ELF file")
    mods = [Module(str(tmp_path / f"{n}.node"), f"{n}.node", str(tmp_path), "node", kind="node")
            for n in ("ok", "lib", "text", "hang")]
    command = [shutil.which("node") or "node", *mods[0].command[1:]]
    proc = subprocess.run([*command, "MARK", "1", *extensions.args(mods)], capture_output=True,
                          text=True, timeout=60)
    batch = extensions.parse(proc.stdout, "MARK")
    assert batch.ready and not batch.done, proc.stdout
    assert [batch.loads[i].status for i in range(3)] == ["ok", "library", "loader"]
    assert batch.started == 3
    assert extensions.death(128 - proc.returncode, "", 1).status == "timeout"


def test_a_finding_names_each_module_up_to_its_bound() -> None:
    many = [Outcome(Module(f"{SITE}/m{i}.so", f"m{i}", SITE, "/py", f"d{i}", "1"),
                    Load("loader", "ImportError: undefined symbol: x")) for i in range(25)]
    [found] = _judge(*many)
    assert all(f"d{i} 1 (m{i}, " in found.message for i in range(extensions.SHOWN))
    assert f"d{extensions.SHOWN} 1" not in found.message
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
    said = extensions.foreign_load(module, "linux/amd64")
    assert said is not None and not said.loaded
    assert said.describe() == ("foreign: the file is not linux/amd64 (ELF 64-bit LSB "
                               "AArch64): no loader of linux/amd64 can load it")
    data = extensions.detail([extensions.Outcome(module, said)], "qemu64", 1, 0.1)
    assert data["cannot_load_count"] == 1
    [note] = extensions.judge("linux/amd64", data)
    assert note.kind == "broken" and "somepkg 1 (somepkg/build/Release/addon.node, " \
        f"{addon}): the file is not linux/amd64 (ELF 64-bit LSB AArch64)" in note.message
    [plain] = found.modules({"/usr/bin/node"})
    assert plain.foreign == "" and extensions.foreign_load(plain, "linux/amd64") is None
