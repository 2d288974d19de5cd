"""The import contract: each module has a layer, and imports only go down (or sideways).

0 pure logic (no I/O, no third-party package); 1 the machine; 2 the engine and registry sides;
3 the pytest plugin; 4 entry points. A new module must be given its layer here. Run by
`nox -s lint` as well as with the unit tests.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "harness"
PURE, MACHINE, SIDES, PLUGIN, ENTRY = range(5)
LAYERS = {
    **dict.fromkeys(("platforms", "elf", "outcomes", "diagnosis", "normalise", "audit",
                     "observation", "verdicts", "report", "errors", "options", "usercheck"),
                    PURE),
    **dict.fromkeys(("debian", "host", "proofs", "provision", "interrupts", "progress",
                     "config"), MACHINE),
    **dict.fromkeys(("engine", "bases", "build", "probes", "pipeline", "registry", "publish",
                     "check_ref", "local_registry"), SIDES),
    **dict.fromkeys(("plugin", "plugin.fixtures", "plugin.options", "plugin.results",
                     "plugin.scheduling", "plugin.state", "plugin.checks"), PLUGIN),
    **dict.fromkeys(("__main__", "cli", "preflight", "publish_cli", "bench"), ENTRY),
}
THIRD_PARTY = {"docker", "requests", "testcontainers", "pytest", "xdist", "filelock", "nox"}


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(HARNESS.rglob("*.py")):
        name = ".".join(path.relative_to(HARNESS).with_suffix("").parts).removesuffix(
            ".__init__").removesuffix("__init__")
        if name:
            found[name] = ast.parse(path.read_text())
    return found


def imports(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(harness modules, third-party packages) imported at module level or below."""
    own, other = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "harness":
                own |= {a.name for a in node.names}
            elif node.module.startswith("harness."):
                own.add(node.module.removeprefix("harness."))
            else:
                other.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                (own.add(alias.name.removeprefix("harness.")) if alias.name.startswith(
                    "harness.") else other.add(alias.name.split(".")[0]))
    return own, other & THIRD_PARTY


def test_every_module_has_a_layer() -> None:
    assert set(modules()) == set(LAYERS)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_imports_only_go_down(name: str) -> None:
    own, third = imports(modules()[name])
    upward = {m for m in own if LAYERS.get(m, ENTRY) > LAYERS[name]}
    assert not upward, f"harness.{name} (layer {LAYERS[name]}) imports {sorted(upward)}"
    if LAYERS[name] == PURE:
        assert not third, f"pure harness.{name} imports {sorted(third)}"
