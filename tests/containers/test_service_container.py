"""The service container (harness.containers.service_run) against the fake engine: a platform on
another engine is an error without a call to any engine, and a network whose way to this host
cannot be shut starts nothing and is removed. (The service run for real is in
tests/engine/test_service_checks.py; the GET itself in test_service_ask.py.)"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.containers import service_run as service
from harness.core.declared import service as svc
from harness.core.outcomes import Kind
from harness.core.platforms.table import parse_platform
from harness.machine import runs
from tests.fake_engine import FakeEngine

AMD64 = parse_platform("linux/amd64")
CHECKS = (svc.ServiceCheck(8080, "/health", "ok", timeout=1),
          svc.ServiceCheck(8081, "/", "hello", timeout=1))


def test_a_service_on_another_engine_is_an_error_for_each_check_and_asks_nothing(
        fake: FakeEngine) -> None:
    found = service.observe(fake.client(), "app:1", AMD64, CHECKS,
                            docker_host="tcp://10.0.0.5:2376")
    assert [o.kind for o in found] == [Kind.ERROR, Kind.ERROR]
    assert all("runs on another engine" in (o.error or "") for o in found)
    assert not fake.calls, "an engine was asked for a check that could not be made"


def test_a_network_whose_way_to_this_host_cannot_be_shut_starts_nothing_and_is_removed(
        fake: FakeEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no iptables: this machine's rules untouched
    fake.image("app:1")
    start = time.monotonic()
    found = service.observe(fake.client(), "app:1", AMD64, CHECKS)
    # no wait for a container that was never asked for (CREATE_GRACE is for one that was)
    assert time.monotonic() - start < service.CREATE_GRACE, "waited for a container never asked"
    assert [o.kind for o in found] == [Kind.ERROR, Kind.ERROR]
    assert all((o.error or "").startswith("linux/amd64: the service's network bridge hs-")
               for o in found), [o.error for o in found]
    (made,) = fake.called("POST", "/networks/create")
    assert made.body["Internal"] is True
    assert made.body["Labels"][runs.LABEL] == runs.run_id()
    assert made.body["Options"]["com.docker.network.bridge.name"].startswith("hs-")
    assert not fake.called("POST", "/containers/create"), "a service started unshut"
    assert fake.networks == {}, "the service's network was left on the engine"
