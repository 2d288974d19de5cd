"""Engine tests: every one runs against the real engine and must leave no probe behind."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.machine import files, kept
from tests import parallel

HERE = Path(__file__).parent
# The caches every worker shares: what is fetched (the second QEMU), and what is keyed on an
# image's content alone (its pushed manifests). The audits are copied: a worker's first
# write replaces a link with a directory of its own (harness.machine.files.own_dir).
SHARED_CACHES = ("qemu-trixie", "manifests", "proofs")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this directory's tests `engine`, so `-m "not engine"` runs the unit tests alone;
    and `serial` those that must run with nothing beside them (tests/parallel.py)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.engine)
            if parallel.is_serial(item.nodeid):
                item.add_marker(pytest.mark.serial)


@pytest.fixture(scope="session", autouse=True)
def _own_answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This process's own kept answers (``$XDG_CACHE_HOME/harness/answers``), so that what
    one xdist worker's tests keep or remove is never another's; the other caches shared."""
    shared = files.cache_dir("")
    root = tmp_path_factory.getbasetemp() / "xdg-cache"
    (root / "harness").mkdir(parents=True, exist_ok=True)
    for name in SHARED_CACHES:
        (shared / name).mkdir(parents=True, exist_ok=True)  # a link to nothing is no cache
        link = root / "harness" / name
        if not link.is_symlink():
            link.symlink_to(shared / name, target_is_directory=True)
    if (shared / "audits").is_dir() and not (root / "harness" / "audits").exists():
        shutil.copytree(shared / "audits", root / "harness" / "audits")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root))
        yield


@pytest.fixture(autouse=True)
def _no_leftovers(no_leftovers: None) -> None:
    """Applies the root conftest's leftover check to every engine test."""


@pytest.fixture(autouse=True)
def _answers_asked_anew() -> None:
    """Every engine test's runs ask their images (harness.machine.kept keeps the answers of
    an image that ran before as it would run now): many tests build the same small images,
    and what a test asserts of a probe is that run's. A test's own reruns read back."""
    shutil.rmtree(kept.answers_dir(), ignore_errors=True)
