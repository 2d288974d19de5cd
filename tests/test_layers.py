"""The import contract: each subpackage of ``harness`` is a layer, and imports only go down
(or sideways, between the engine and registry sides).

0 ``core``: pure logic (no I/O, no third-party package that talks to anything); 1 ``machine``;
2 ``containers`` (the engine side) and ``distribution`` (the registry side); 3 ``plugin``; 4
``commands`` and ``__main__``; above them all, 5 ``devtools`` (this repository's developer
tooling beside the package: the bench, the docs' generated pages), which may import any of
the harness and which nothing in the harness imports. A module outside these packages fails
the contract, and so do relative imports that go up. The core may not import a module that
reaches files, processes, the network or the environment, nor call ``open``, ``print`` or
``input``, nor a method that reads or writes a file (``write_text``, ``mkdir``, ...). Run by
`nox -s lint` as well as with the unit tests.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "harness"
DEVTOOLS = HARNESS.parent / "devtools"
LAYERS = {"core": 0, "machine": 1, "containers": 2, "distribution": 2, "plugin": 3,
          "commands": 4, "__main__": 4, "__init__": 0, "devtools": 5}
THIRD_PARTY = {"docker", "requests", "testcontainers", "pytest", "xdist", "filelock", "nox"}
# What the core may not touch: modules that reach the machine, and calls that do I/O.
IO_MODULES = {"os", "subprocess", "shutil", "socket", "tempfile", "pathlib", "io", "sys",
              "urllib.request", "http", "glob", "select", "signal.alarm"} | THIRD_PARTY
IO_CALLS = {"open", "print", "input", "exec", "eval", "__import__"}
IO_METHODS = {"write_text", "write_bytes", "read_text", "read_bytes", "mkdir", "unlink",
              "rmdir", "touch", "chmod", "rename", "symlink_to", "iterdir",
              "getenv", "system", "popen"}


@functools.cache
def modules() -> dict[str, ast.Module]:
    """Every module, by dotted name under harness (``core.platforms.table``)."""
    return {".".join(path.relative_to(HARNESS).with_suffix("").parts): ast.parse(
        path.read_text()) for path in sorted(HARNESS.rglob("*.py"))}


def layer(name: str) -> int:
    top = name.split(".")[0]
    assert top in LAYERS, f"harness.{name} is in no layer: move it into one of {sorted(LAYERS)}"
    return LAYERS[top]


def imports(tree: ast.Module, name: str = "") -> tuple[set[str], set[str]]:
    """(harness modules, other modules) imported anywhere in the module ``name``
    (``core.judging.verdicts``; relative imports are resolved against it)."""
    own, other = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            package = name.split(".")[:-node.level] if node.level else []
            base = ".".join([*package, *([node.module] if node.module else [])])
            own |= ({f"{base}.{a.name}" for a in node.names} if base else
                    {a.name for a in node.names})
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "harness" or node.module.startswith("harness."):
                base = node.module.removeprefix("harness").lstrip(".")
                own |= ({f"{base}.{a.name}" for a in node.names} if base else
                        {a.name for a in node.names})
            else:
                other |= {node.module.split(".")[0], node.module}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("harness."):
                    own.add(alias.name.removeprefix("harness."))
                else:
                    other |= {alias.name.split(".")[0], alias.name}
    return own, other


def io_calls(tree: ast.Module) -> set[str]:
    """The calls in the module that do I/O: builtins and file methods (``x.write_text()``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in IO_CALLS:
                found.add(func.id)
            elif isinstance(func, ast.Attribute) and func.attr in IO_METHODS:
                found.add(f".{func.attr}")
    return found


def test_every_module_is_in_a_layer() -> None:
    for name in modules():
        layer(name)


def broken(name: str, tree: ast.Module) -> list[str]:
    """What in module ``name`` breaks the contract, said as a developer would fix it."""
    own, other = imports(tree, name)
    found = [f"imports harness.{m} (layer {layer(m)})" for m in sorted(own)
             if layer(m) > layer(name)]
    # devtools sits beside the package: a harness module reaches it by its own name.
    found += [f"imports {m} (layer {LAYERS['devtools']}, the developer tooling)"
              for m in sorted(other) if m.split(".")[0] == "devtools"
              and layer(name) < LAYERS["devtools"]]
    if layer(name) == 0:
        found += [f"imports {m}, which does I/O" for m in sorted(other & IO_MODULES)]
        found += [f"calls {c}(), which does I/O" for c in sorted(io_calls(tree))]
    return found


@pytest.mark.parametrize("name", sorted(modules()))
def test_imports_only_go_down_and_the_core_does_no_io(name: str) -> None:
    found = broken(name, modules()[name])
    assert not found, f"harness.{name} (layer {layer(name)}): {'; '.join(found)}"


@pytest.mark.parametrize(("planted", "said"), [
    ("from harness.containers import probes\n", "imports harness.containers.probes"),
    ("import harness.plugin\n", "imports harness.plugin"),
    ("from ..containers import probes\n", "imports harness.containers.probes"),
    ("from .. import plugin\n", "imports harness.plugin"),
    ("from devtools import bench\n", "imports devtools"),
    ("import devtools.docs\n", "imports devtools.docs"),
    ("import os\n", "imports os, which does I/O"),
    ("from pathlib import Path\n", "imports pathlib, which does I/O"),
    ("def f(p):\n    p.write_text('x')\n", "calls .write_text()"),
    ("def f():\n    return open('/etc/passwd').read()\n", "calls open()"),
])
def test_the_contract_catches_what_is_planted_in_the_core(planted: str, said: str) -> None:
    """The check itself: each of these, planted in a core module, is named."""
    assert any(said in line for line in broken("core.sinks", ast.parse(planted)))


@pytest.mark.parametrize("name", ["commands.cli", "plugin.results", "containers.probes"])
@pytest.mark.parametrize("planted", ["from devtools import bench\n", "import devtools.docs\n",
                                     "from devtools.bench_pairs import spread\n"])
def test_no_layer_of_the_harness_may_import_the_developer_tooling(name: str,
                                                                  planted: str) -> None:
    assert any("the developer tooling" in line for line in broken(name, ast.parse(planted)))


def devtools_modules() -> dict[str, ast.Module]:
    """The developer tooling's modules, by dotted name (``devtools.bench``)."""
    return {".".join(("devtools", *path.relative_to(DEVTOOLS).with_suffix("").parts)):
            ast.parse(path.read_text()) for path in sorted(DEVTOOLS.rglob("*.py"))}


def test_the_developer_tooling_is_the_top_layer_and_imports_the_harness_by_its_name() -> None:
    """devtools may use any layer (it is above them all), by absolute imports: a relative
    import there would be one out of the package into the harness's namespace."""
    tools = devtools_modules()
    assert {"devtools.bench", "devtools.docs"} <= set(tools)
    relative = [name for name, tree in tools.items() for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.level]
    assert not relative, relative
    assert any(imports(tree)[0] for tree in tools.values())  # it does use the harness


def test_the_wheel_ships_the_harness_and_not_the_developer_tooling() -> None:
    """setuptools' package discovery, as pyproject.toml configures it: the harness's
    packages, and no devtools (a user's environment gets the product only)."""
    import tomllib
    from fnmatch import fnmatchcase

    pyproject = tomllib.loads((HARNESS.parent / "pyproject.toml").read_text())
    setuptools = pyproject["tool"]["setuptools"]
    include = setuptools["packages"]["find"]["include"]
    packages = [".".join(p.parent.relative_to(HARNESS.parent).parts)
                for p in HARNESS.parent.glob("*/**/__init__.py")
                if not any(part.startswith(".") for part in p.parts)]
    shipped = {p for p in packages if any(fnmatchcase(p, pattern) for pattern in include)}
    assert "harness" in shipped and "harness.core" in shipped
    assert not {p for p in shipped if not p.startswith("harness")}, shipped
    assert "devtools" in packages and "devtools" not in shipped
    data = setuptools.get("package-data", {})
    assert not [k for k in data if k.split(".")[0] == "devtools"], data


def test_sideways_and_downward_relative_imports_pass() -> None:
    assert broken("containers.probes", ast.parse("from ..distribution import registry\n"
                                                 "from ..core import elf\n")) == []


# The test directories, one per package of the harness, and the engine's integration tests.
TEST_PACKAGES = ("core", "machine", "containers", "distribution", "plugin", "commands",
                 "devtools", "engine")


def test_the_tests_mirror_the_packages() -> None:
    """A test module of a package's module sits in that package's test directory."""
    tests = HARNESS.parent / "tests"
    for package in LAYERS:
        if (HARNESS / package).is_dir():
            assert (tests / package).is_dir(), f"no tests/{package}/ for harness/{package}/"
    assert (tests / "devtools").is_dir(), "no tests/devtools/ for devtools/"
    for path in sorted(tests.glob("*/test_*.py")):
        stem = path.stem.removeprefix("test_")
        homes = [p.parent.name for p in [*HARNESS.glob(f"*/{stem}.py"),
                                         *DEVTOOLS.glob(f"{stem}.py")]]
        where = path.parent.name
        assert not homes or where in homes or where == "engine", \
            f"{path.relative_to(tests)} tests harness/{homes[0]}/{stem}.py: move it to " \
            f"tests/{homes[0]}/"


def test_test_modules_import_shared_helpers_never_each_other() -> None:
    """Shared factories live in tests/factories.py and tests/helpers.py."""
    tests = HARNESS.parent / "tests"
    found = []
    for path in sorted(tests.rglob("test_*.py")):
        _own, other = imports(ast.parse(path.read_text()))
        found += [f"{path.relative_to(tests)} imports {m}" for m in sorted(other)
                  if m.startswith("tests.") and m.split(".")[1] in TEST_PACKAGES]
    assert not found, found


def test_no_two_test_modules_share_a_name() -> None:
    """pytest's default import mode imports test modules by their name alone (the test
    directories are no packages): a second tests/*/test_X.py stops the whole run at collection
    ("import file mismatch")."""
    tests = HARNESS.parent / "tests"
    seen: dict[str, list[str]] = {}
    for path in sorted(tests.rglob("test_*.py")):
        seen.setdefault(path.name, []).append(str(path.relative_to(tests)))
    assert not [paths for paths in seen.values() if len(paths) > 1]


# -- the core's rooms: subpackages by job, in an order with no upward arrow and no circle --

# Bottom to top. The modules directly in core (CORE_ROOT) are below them all.
CORE_ORDER = ("failures", "oci", "platforms", "buildspec", "declared", "answers", "results",
              "judging", "reporting", "settings")
CORE_ROOT = {"__init__", "clock", "sinks", "outcomes", "jsondoc"}


def core_room(name: str) -> int:
    """A core module's place (``core.answers.elf``, or a name imported from it): -1 for the
    root's modules, else its room's index in CORE_ORDER."""
    room = name.split(".")[1]
    if room in CORE_ORDER:
        return CORE_ORDER.index(room)
    assert room in CORE_ROOT, (f"harness/core/{room}.py: the core holds only "
                               f"{sorted(CORE_ROOT)} directly; move it into one of "
                               f"{CORE_ORDER}")
    return -1


def core_imports(name: str, tree: ast.Module) -> set[str]:
    own, _ = imports(tree, name)
    # `from harness.core.answers import elf` names core.answers.elf; a bare package is its
    # __init__ (core.answers), which ranks as the room itself.
    return {m for m in own if m.startswith("core.") and m != "core"}


def upward(name: str, tree: ast.Module) -> list[str]:
    """The core modules ``name`` imports from a room above its own."""
    here = core_room(name)
    return [m for m in sorted(core_imports(name, tree)) if core_room(m) > here]


@pytest.mark.parametrize("name", sorted(n for n in modules() if n.startswith("core.")))
def test_the_core_s_rooms_only_import_down(name: str) -> None:
    here = core_room(name)
    up = upward(name, modules()[name])
    assert not up, (f"harness.{name} (room {CORE_ORDER[here] if here >= 0 else 'core'}) "
                    f"imports {', '.join('harness.' + m for m in up)}, a room above it "
                    f"(order, bottom first: core, {', '.join(CORE_ORDER)})")


def test_the_core_holds_few_modules_directly() -> None:
    direct = sorted(p.stem for p in (HARNESS / "core").glob("*.py"))
    assert len(direct) <= 8, direct
    assert set(direct) == CORE_ROOT


def test_no_module_is_longer_than_600_lines() -> None:
    long = {str(p.relative_to(HARNESS.parent)): n for p in sorted(HARNESS.rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > 600}
    assert not long, f"split these by job (600 lines at most): {long}"


def test_no_two_packages_import_each_other() -> None:
    """Sideways imports between the engine side and the registry side go one way only."""
    edges: set[tuple[str, str]] = set()
    for name, tree in modules().items():
        own, _ = imports(tree, name)
        edges |= {(name.split(".")[0], m.split(".")[0]) for m in own
                  if m.split(".")[0] != name.split(".")[0]}
    both = sorted({tuple(sorted(e)) for e in edges if (e[1], e[0]) in edges})
    assert not both, f"these packages import each other: {both}"


def test_no_two_modules_share_a_name() -> None:
    """One file name, one module: `structure` in two packages read as one in tracebacks."""
    seen: dict[str, list[str]] = {}
    for path in sorted(HARNESS.rglob("*.py")):
        if path.stem != "__init__":
            seen.setdefault(path.stem, []).append(str(path.relative_to(HARNESS)))
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert not twice, twice


@pytest.mark.parametrize("planted", ["from harness.core.reporting import render\n",
                                     "from harness.core.settings.options import OPTIONS\n",
                                     "from ..judging import verdicts\n"])
def test_the_rooms_contract_catches_an_upward_import(planted: str) -> None:
    assert upward("core.answers.elf", ast.parse(planted))
    assert not upward("core.settings.options", ast.parse(planted))
