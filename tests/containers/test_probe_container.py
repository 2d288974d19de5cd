"""The probe container (harness.containers.probe_container.ImageProbe) against the fake
engine: what it is started with, what an exec answers, and what is left on the engine when the
start fails (nothing). The probes' answers against real images are in
tests/engine/test_probing.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.containers import probe_container
from harness.core.failures.errors import CannotCheck, HarnessError, NoEmulation
from harness.core.outcomes import Kind
from harness.core.platforms.table import parse_platform
from harness.machine import runs
from tests.fake_engine import FakeEngine, error

ARM64 = parse_platform("linux/arm64")


def test_the_probe_container_carries_the_run_id_and_the_least_privilege(
        fake: FakeEngine) -> None:
    fake.image("app:1", arch="arm64")
    with probe_container.ImageProbe(fake.client(), "app:1", ARM64) as probe:
        (created,) = fake.called("POST", "/containers/create")
        labels = created.body["Labels"]
        assert labels[probe_container.LABEL] == "1"
        assert labels[runs.LABEL] == runs.run_id()  # told from another run's on one engine
        host = created.body["HostConfig"]
        assert host["CapDrop"] == ["ALL"] and host["NetworkMode"] == "none"
        assert host["SecurityOpt"] == ["no-new-privileges"] and host["PidsLimit"] == 512
        assert created.param("platform") == "linux/arm64"
        assert created.body["Entrypoint"] == probe_container.KEEPALIVE
        assert probe.container.id in fake.containers
    assert fake.containers == {}, "the probe container was left on the engine"


def test_an_exec_answers_its_exit_status_and_output(fake: FakeEngine) -> None:
    fake.image("app:1", arch="arm64")
    fake.exec_output = [(1, b"GNU bash, version 5.2\n")]
    fake.exec_code = 3
    with probe_container.ImageProbe(fake.client(), "app:1", ARM64) as probe:
        status, text = probe.exec(["bash", "--version"])
    assert (status, text) == (3, "GNU bash, version 5.2\n")
    (made,) = fake.execs.values()
    assert made["Cmd"] == ["bash", "--version"]


def test_a_container_whose_start_fails_is_removed_and_the_failure_diagnosed(
        fake: FakeEngine, tmp_path: Path) -> None:
    fake.image("app:1", arch="arm64")
    fake.on("POST", "/containers/[^/]+/start", error(
        500, "failed to create task for container: exec /bin/sh: exec format error"))
    probe = probe_container.ImageProbe(fake.client(), "app:1", ARM64,
                                       log_path=tmp_path / "probe.log")
    with pytest.raises(HarnessError) as said, probe:
        pass
    # the host could not run it (an error, retried), with the fix: a QEMU handler
    assert isinstance(said.value, NoEmulation) and said.value.kind is Kind.ERROR
    assert said.value.message.startswith("linux/arm64: binaries of the platform cannot run ")
    assert "register a QEMU handler for linux/arm64" in said.value.fix
    assert fake.containers == {}, "a container that failed to start was left on the engine"


def test_no_local_image_cannot_be_checked_and_nothing_is_pulled_or_created(
        fake: FakeEngine) -> None:
    probe = probe_container.ImageProbe(fake.client(), "missing:1", ARM64)
    with pytest.raises(CannotCheck, match="no local image missing:1 to probe"), probe:
        pass
    assert not fake.called("POST", "/images/create")
    assert not fake.called("POST", "/containers/create")


def test_a_files_only_container_is_created_never_started(fake: FakeEngine) -> None:
    fake.image("scratchy:1", arch="arm64")
    container = probe_container.files_only(fake.client(), "scratchy:1", ARM64)
    (created,) = fake.called("POST", "/containers/create")
    assert created.body["Entrypoint"] == ["/harness-files-only"]
    assert created.body["Labels"][runs.LABEL] == runs.run_id()
    assert not fake.called("POST", f"/containers/{container.id}/start")
