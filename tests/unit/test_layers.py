"""The import contract: each subpackage of ``harness`` is a layer, and imports only go down
(or sideways, between the engine and registry sides).

0 ``core``: pure logic (no I/O, no third-party package); 1 ``machine``; 2 ``containers`` (the
engine side) and ``distribution`` (the registry side); 3 ``plugin``; 4 ``commands`` and
``__main__``. A module outside these packages fails the contract. Run by `nox -s lint` as
well as with the unit tests.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "harness"
LAYERS = {"core": 0, "machine": 1, "containers": 2, "distribution": 2, "plugin": 3,
          "commands": 4, "__main__": 4, "__init__": 0}
THIRD_PARTY = {"docker", "requests", "testcontainers", "pytest", "xdist", "filelock", "nox"}


def modules() -> dict[str, ast.Module]:
    """Every module, by dotted name under harness (``core.platforms``)."""
    return {".".join(path.relative_to(HARNESS).with_suffix("").parts): ast.parse(
        path.read_text()) for path in sorted(HARNESS.rglob("*.py"))}


def layer(name: str) -> int:
    top = name.split(".")[0]
    assert top in LAYERS, f"harness.{name} is in no layer: move it into one of {sorted(LAYERS)}"
    return LAYERS[top]


def imports(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(harness modules, third-party packages) imported anywhere in the module."""
    own, other = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "harness" or node.module.startswith("harness."):
                base = node.module.removeprefix("harness").lstrip(".")
                own |= ({f"{base}.{a.name}" for a in node.names} if base else
                        {a.name for a in node.names})
            else:
                other.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("harness."):
                    own.add(alias.name.removeprefix("harness."))
                else:
                    other.add(alias.name.split(".")[0])
    return own, other & THIRD_PARTY


def test_every_module_is_in_a_layer() -> None:
    for name in modules():
        layer(name)


@pytest.mark.parametrize("name", sorted(modules()))
def test_imports_only_go_down(name: str) -> None:
    own, third = imports(modules()[name])
    upward = {m for m in own if layer(m) > layer(name)}
    assert not upward, f"harness.{name} (layer {layer(name)}) imports {sorted(upward)}"
    if layer(name) == 0:
        assert not third, f"pure harness.{name} imports {sorted(third)}"


def test_the_contract_catches_an_upward_import() -> None:
    """The check itself: the core importing the engine side is caught."""
    own, _ = imports(ast.parse("from harness.containers import probes\nimport harness.plugin"))
    assert own == {"containers.probes", "plugin"}
    assert {m for m in own if layer(m) > layer("core.verdicts")} == own
