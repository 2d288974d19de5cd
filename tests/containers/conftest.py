"""The fake engine (tests/fake_engine.py) for the unit tests of harness/containers: each test
its own, on a socket in its tmp_path, and DOCKER_HOST pointed at it, so that a client the
harness makes for itself (testcontainers') reaches it too and nothing real is touched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import fake_engine


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_engine.FakeEngine]:
    with fake_engine.serve(tmp_path) as engine:
        monkeypatch.setenv("DOCKER_HOST", engine.url)
        for name in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
            monkeypatch.delenv(name, raising=False)
        yield engine
