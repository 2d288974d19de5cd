"""The loader scripts run by an image's own interpreters, and what they said read back
(harness.core.answers.module_loaders): run here by this machine's Python and node."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.answers import module_loaders
from harness.core.answers.extensions import Module
from harness.core.answers.module_loaders import Load


@given(st.text(max_size=300))
def test_any_output_parses_to_a_batch(text: str) -> None:
    batch = module_loaders.parse(text, "M")
    assert batch.started is None or isinstance(batch.started, int)


def test_a_death_is_named_by_its_signal() -> None:
    assert module_loaders.death(132, "", 20).status == "illegal"
    assert module_loaders.death(139, "qemu: uncaught target signal 4 (Illegal instruction)", 20
                        ).status == "illegal"
    assert module_loaders.death(128 + 14, "", 20) == Load("timeout",
                                                  "did not finish loading within 20 s")
    assert module_loaders.death(139, "", 20) == Load("crashed", "killed the interpreter (SIGSEGV)")
    assert module_loaders.death(3, "", 20).status == "exited"


def test_later_levels_are_the_known_cpus_above() -> None:
    assert module_loaders.later_levels("linux/amd64") == ["linux/amd64/v2", "linux/amd64/v3"]
    assert module_loaders.later_levels("linux/arm/v6") == ["linux/arm/v7"]
    assert module_loaders.later_levels("linux/amd64/v3") == []


def _run_loader(tmp_path: Path, files: dict[str, str], names: list[str],
                limit: int = 5) -> tuple[module_loaders.Batch, int, str]:
    """LOADER run by this machine's Python over modules written to ``tmp_path``: the same
    script the probes pass to an image's Python."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    mods = [Module(str(tmp_path / f"{n.replace('.', '/')}{suffix}"), n, str(tmp_path), "py")
            for n in names]
    proc = subprocess.run([sys.executable, "-c", module_loaders.LOADER, "MARK", str(limit),
                           *module_loaders.args(mods)], capture_output=True, text=True, timeout=60)
    return module_loaders.parse(proc.stdout, "MARK"), proc.returncode, proc.stdout


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
    assert module_loaders.death(status if status >= 0 else 128 - status, "", 5).status == "crashed"


def test_a_hang_is_ended_by_its_limit(tmp_path: Path) -> None:
    batch, status, _ = _run_loader(tmp_path, {
        "hangs/__init__.py": "while True: pass"}, ["hangs._a"], limit=1)
    assert batch.started == 0 and not batch.done
    assert module_loaders.death(128 - status, "", 1).status == "timeout"


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
    command = [shutil.which("node") or "node", *module_loaders.command(mods[0])[1:]]
    proc = subprocess.run([*command, "MARK", "1", *module_loaders.args(mods)], capture_output=True,
                          text=True, timeout=60)
    batch = module_loaders.parse(proc.stdout, "MARK")
    assert batch.ready and not batch.done, proc.stdout
    assert [batch.loads[i].status for i in range(3)] == ["ok", "library", "loader"]
    assert batch.started == 3
    assert module_loaders.death(128 - proc.returncode, "", 1).status == "timeout"



def test_ruby_s_own_report_of_an_illegal_instruction_is_one() -> None:
    """Ruby cannot let a SIGILL go by: its handler reports it (as under QEMU on qemu64) and
    aborts. An abort with no such report, or the report printed by one that lived, is not."""
    report = ("/var/lib/gems/3.1.0/extensions/x86_64-linux/3.1.0/fastrb-1.0.0/fastrb.so: "
              "[BUG] Illegal instruction at 0x000000400673f110\nruby 3.1.2p20 (2022-04-12)")
    assert module_loaders.death(134, report, 20).status == "illegal"
    assert module_loaders.death(134, "", 20) == Load("crashed",
                                                     "killed the interpreter (SIGABRT)")
    assert module_loaders.death(1, report, 20).status == "exited"
    # A Ruby extension whose init stops at a constant its gem's Ruby code defines ran there.
    assert Load("partial", "NameError: uninitialized constant RBS").loaded
