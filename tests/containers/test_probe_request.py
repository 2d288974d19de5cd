"""The probe's request (harness.containers.probe_request.ProbeRequest): one frozen record of
what a probe is asked with, and the key its answers are kept under."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.containers.probe_container import Emulation
from harness.containers.probe_request import ProbeRequest
from harness.core.declared.usercheck import DeclaredCheck
from harness.core.outcomes import RunKind
from harness.core.platforms.table import parse_platform

ARM64 = parse_platform("linux/arm64")
RUNTIME: dict[str, Any] = {"version": "28.2.2", "runtime": "runc"}
CHECK = DeclaredCheck("bash", ("bash", "--version"), "GNU bash")


def test_a_request_is_frozen() -> None:
    request = ProbeRequest(timeout=5.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.timeout = 6.0  # type: ignore[misc]


def test_answers_are_kept_only_for_an_engine_here_and_no_declared_check() -> None:
    assert not ProbeRequest().kept_answers  # another machine's engine: no runtime known
    assert ProbeRequest(keep_answers=RUNTIME).kept_answers
    # A user's command may depend on what no key holds: asked every time.
    assert not ProbeRequest(keep_answers=RUNTIME, checks=(CHECK,)).kept_answers


def key(request: ProbeRequest, run_as: str = "linux/arm64") -> str:
    return request.answers_key("sha256:1", ARM64, parse_platform(run_as))


# Each option the answers depend on, changed from the default.
CHANGED: dict[str, Any] = {
    "timeout": 61.0, "hello_timeout": 601.0, "mode": RunKind.QEMU,
    "required": frozenset({"dpkg"}), "allow_foreign": ("/opt/*",),
    "emulation": Emulation("QEMU 7.2.22", "qemu-aarch64", True),
    "native_modules": "off", "native_skip": ("numpy",),
    "keep_answers": {**RUNTIME, "version": "29.0.0"},
}


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_every_option_the_answers_depend_on_is_in_their_key(name: str) -> None:
    base = ProbeRequest(keep_answers=RUNTIME)
    assert key(dataclasses.replace(base, **{name: CHANGED[name]})) != key(base)


def test_the_platform_the_image_runs_as_is_in_the_key() -> None:
    base = ProbeRequest(keep_answers=RUNTIME)
    assert key(base, "linux/amd64") != key(base)


@settings(max_examples=20, deadline=None)
@given(log=st.sampled_from([None, Path("a.log"), Path("logs/b.log")]),
       host=st.sampled_from([None, "unix:///run/docker.sock", "tcp://10.0.0.1:2376"]),
       read=st.booleans(), audits=st.booleans())
def test_what_the_answers_do_not_depend_on_leaves_the_key(log: Path | None, host: str | None,
                                                         read: bool, audits: bool) -> None:
    """Where the log goes, the engine's URL (its runtime is in the key), whether kept
    answers are read back and whether the audits are kept: the same answers."""
    base = ProbeRequest(keep_answers=RUNTIME)
    assert key(dataclasses.replace(base, log_path=log, docker_host=host, read_answers=read,
                                   keep_audits=audits)) == key(base)
