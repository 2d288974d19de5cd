"""tests/parallel.py names real tests and files: a renamed test would silently run beside
the others again, on a worker, where it collides."""

from __future__ import annotations

import ast
from pathlib import Path

from tests import parallel

ROOT = Path(__file__).resolve().parents[1]


def _functions(module: str) -> set[str]:
    tree = ast.parse((ROOT / module).read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_serial_test_is_a_test_of_its_file() -> None:
    for nodeid in parallel.SERIAL_TESTS:
        module, name = nodeid.split("::")
        assert name.startswith("test_") and name in _functions(module), nodeid


def test_every_shared_file_exists_and_shares_its_unit_with_another() -> None:
    for module, group in parallel.SHARED.items():
        assert (ROOT / module).is_file(), module
        assert list(parallel.SHARED.values()).count(group) > 1, group


def test_a_test_s_unit_is_its_file_or_its_file_s_group() -> None:
    assert parallel.scope("tests/core/test_elf.py::test_x[a::b]") == "tests/core/test_elf.py"
    assert parallel.scope("tests/engine/test_workflow.py::test_y") == \
        parallel.scope("tests/engine/test_docker_contexts.py::test_z")
    assert parallel.is_serial("tests/engine/test_plugin_runs.py::"
                              "test_workers_build_side_by_side_and_probe_one_platform_per_core"
                              "[4-2-1]")
    assert not parallel.is_serial("tests/engine/test_plugin_runs.py::test_unknown_platform_is_"
                                  "a_usage_error")
