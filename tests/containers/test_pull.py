"""The image of a platform to check (``--ref``), against the fake engine: a local image of a
known platform is itself, one of an unknown platform or none at all is bad input, and a
registry reference is pulled by the platform's own manifest digest."""

from __future__ import annotations

import json

import pytest

from harness.containers import pull
from harness.core.failures.errors import CannotCheck, HarnessError, UsageError
from harness.core.outcomes import Kind, Verdict
from harness.core.platforms.table import parse_platform
from tests.fake_engine import Answer, FakeEngine, error

ARM64 = parse_platform("linux/arm64")
DIGEST = "sha256:" + "ab" * 32


def test_a_local_image_is_checked_as_it_is_and_its_platform_comes_from_its_config(
        fake: FakeEngine) -> None:
    fake.image("app:1", arch="arm64", variant="v8")
    assert pull.fetch(fake.client(), "app:1", ARM64, {}) == "app:1"
    assert pull.local_platform(fake.client(), "app:1").name == "linux/arm64"
    assert not fake.called("POST", "/images/create"), "a local image was pulled"


def test_no_such_local_image_is_bad_input_naming_the_fix(fake: FakeEngine) -> None:
    with pytest.raises(UsageError) as said:
        pull.local_platform(fake.client(), "nothing:here")
    assert said.value.message == "no local image nothing:here and it is not a registry reference"
    assert "HOST[:PORT]/REPO:TAG" in said.value.fix


def test_a_local_image_of_an_unknown_platform_is_bad_input(fake: FakeEngine) -> None:
    fake.image("odd:1", arch="sparc64")
    with pytest.raises(UsageError, match=r"odd:1 is linux/sparc64, a platform the harness"):
        pull.local_platform(fake.client(), "odd:1")


def test_a_platform_missing_from_the_index_cannot_be_checked(fake: FakeEngine) -> None:
    with pytest.raises(CannotCheck, match="linux/arm64 is not in localhost:5000/app:1"):
        pull.fetch(fake.client(), "localhost:5000/app:1", ARM64, {"linux/amd64": DIGEST})
    assert not fake.called("POST", "/images/create")


def test_a_registry_image_is_pulled_by_the_platforms_own_digest(fake: FakeEngine) -> None:
    found = pull.fetch(fake.client(), "localhost:5000/app:1", ARM64, {"linux/arm64": DIGEST})
    (call,) = fake.called("POST", "/images/create")
    assert call.param("fromImage") == "localhost:5000/app"
    assert call.param("tag") == DIGEST  # by digest, never by the tag of the index
    assert call.param("platform") == "linux/arm64"
    assert found == fake.images[f"localhost:5000/app@{DIGEST}"]["Id"]


def test_a_pull_the_registry_refuses_is_a_diagnosed_error_not_a_crash(fake: FakeEngine) -> None:
    fake.on("POST", "/images/create", error(
        500, "Get \"https://localhost:5000/v2/\": dial tcp 127.0.0.1:5000: connect: "
        "connection refused"))
    with pytest.raises(HarnessError) as said:
        pull.fetch(fake.client(), "localhost:5000/app:1", ARM64, {"linux/arm64": DIGEST})
    # the machine could not check (a CI retries it), never a wrong image nor a harness bug
    assert said.value.kind is Kind.ERROR, said.value.kind
    assert said.value.kind.verdict is Verdict.ERROR


def test_a_pull_whose_stream_ends_in_the_engines_error_says_that_error(
        fake: FakeEngine) -> None:
    """Both engines answer a refused pull with 200 and an error line in the stream (Podman
    does for an HTTP registry it will not speak plain HTTP to); that line is the reason
    given, diagnosed, not the "No such image" of looking up an image never pulled."""
    said_by_engine = ("initializing source docker://127.0.0.1:5000/app: pinging container "
                      "registry 127.0.0.1:5000: Get \"https://127.0.0.1:5000/v2/\": http: "
                      "server gave HTTP response to HTTPS client")
    fake.on("POST", "/images/create", Answer(200, json.dumps(
        {"error": said_by_engine, "errorDetail": {"message": said_by_engine}}).encode() + b"\n",
        stream=True))
    with pytest.raises(HarnessError) as said:
        pull.fetch(fake.client(), "127.0.0.1:5000/app:1", ARM64, {"linux/arm64": DIGEST})
    assert "No such image" not in str(said.value.message)
    assert "server gave HTTP response to HTTPS client" in str(said.value.message) + str(
        said.value.fix), said.value
    assert said.value.kind is Kind.ERROR
