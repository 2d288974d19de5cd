"""The builders (harness.containers.build) without an engine: buildx's command line as a
request makes it, and the classic builder's calls against the fake engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.containers import build, engine
from harness.core.buildspec.secrets import Secret
from harness.core.failures.errors import BuildFailed, UsageError
from harness.core.platforms.table import parse_platform
from tests.fake_engine import Answer, FakeEngine

ARM64 = parse_platform("linux/arm64")


def request(tmp_path: Path, **kw: object) -> build.BuildRequest:
    (tmp_path / "Dockerfile").write_text("FROM tiny:1\n")
    return build.BuildRequest(ARM64, tmp_path / "Dockerfile", tmp_path, "app:arm64",
                              tmp_path / "build.log", **kw)  # type: ignore[arg-type]


def test_the_buildx_command_line_carries_every_part_of_the_request(tmp_path: Path) -> None:
    req = request(tmp_path, build_args={"A": "1"}, labels={"run": "r1"},
                  contexts={"debian:bookworm": "harness/debian:arm64"}, target="final",
                  secrets=(Secret("tok", env="TOKEN"),), cache_from=("type=local,src=c",),
                  cache_to=("type=local,dest=c",), no_cache=True)
    cmd = build.BuildxBuilder(None).command(req)  # type: ignore[arg-type]
    assert cmd[:4] == ["docker", "buildx", "build", "--platform"] and cmd[4] == "linux/arm64"
    assert "--load" in cmd and cmd[-1] == str(tmp_path)

    def after(flag: str) -> list[str]:
        return [cmd[i + 1] for i, a in enumerate(cmd) if a == flag]

    assert after("--tag") == ["app:arm64"] and after("--file") == [str(req.dockerfile)]
    assert after("--build-arg") == ["A=1"] and after("--label") == ["run=r1"]
    assert after("--build-context") == ["debian:bookworm=docker-image://harness/debian:arm64"]
    assert after("--target") == ["final"] and after("--secret") == ["id=tok,env=TOKEN"]
    assert after("--cache-from") == ["type=local,src=c"]
    assert after("--cache-to") == ["type=local,dest=c"] and "--no-cache" in cmd


def test_named_contexts_go_to_buildx_and_win_over_a_served_base_of_the_same_name(
        tmp_path: Path) -> None:
    req = request(tmp_path, contexts={"debian:bookworm": "harness/debian:arm64",
                                      "tiny:1": "harness/tiny:arm64"},
                  named_contexts={"files": "/src/files", "tiny:1": "docker-image://mine:2"},
                  ssh=("default", "deploy=/k"))
    cmd = build.BuildxBuilder(None).command(req)  # type: ignore[arg-type]
    assert [cmd[i + 1] for i, a in enumerate(cmd) if a == "--ssh"] == ["default", "deploy=/k"]
    given = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--build-context"]
    assert given == ["debian:bookworm=docker-image://harness/debian:arm64",
                     "tiny:1=docker-image://mine:2", "files=/src/files"]


def test_named_contexts_without_buildx_or_on_docker_20_are_bad_input() -> None:
    with pytest.raises(UsageError, match="--build-context needs BuildKit"):
        build.choose("auto", None, None, named_contexts=True)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="--ssh needs BuildKit"):
        build.choose("auto", None, None, ssh=True)  # type: ignore[arg-type]
    buildx = build.BuildxBuilder(None)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="Docker 23 or later, and this engine is Docker 20"):
        build.check_named_contexts(buildx, "20.10.24+dfsg1", True)
    with pytest.raises(UsageError, match="with the classic builder"):
        build.check_named_contexts(build.ClassicBuilder(None), "27.1.0",  # type: ignore[arg-type]
                                   True)
    build.check_named_contexts(buildx, "27.1.0", True)  # taken: no error
    build.check_named_contexts(buildx, "20.10.24", False)  # none given: nothing to refuse


def test_auto_takes_buildkit_only_where_buildx_is_there() -> None:
    assert build.resolve("auto", "v0.12.1") == "buildx"
    assert build.resolve("auto", None) == "classic"
    assert build.resolve("classic", "v0.12.1") == "classic"


def test_asking_for_buildx_or_a_secret_without_buildx_is_bad_input() -> None:
    with pytest.raises(UsageError, match="--builder classic"):
        build.choose("buildx", None, None)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="--secret needs BuildKit"):
        build.choose("auto", None, None, secrets=True)  # type: ignore[arg-type]


def test_buildkit_asked_of_a_podman_engine_is_bad_input_naming_podman_not_the_plugin(
        fake: FakeEngine) -> None:
    engine._kinds.clear()
    fake.on("GET", "/version", Answer(200, {
        "Components": [{"Name": "Podman Engine", "Version": "4.3.1"}], "Version": "4.3.1",
        "ApiVersion": "1.41"}))
    for given, secrets, says in (("buildx", False, "--builder buildx"),
                                 ("auto", True, "--secret")):
        with pytest.raises(UsageError) as said:
            build.choose(given, fake.client(), None, secrets=secrets)
        assert said.value.message == (f"{says} needs BuildKit, and the platform's engine is "
                                      "Podman, which has none")
        assert "docker-buildx" not in said.value.fix
    assert isinstance(build.choose("auto", fake.client(), None), build.ClassicBuilder)
    engine._kinds.clear()


def test_the_classic_build_sends_the_platform_and_args_and_takes_the_image_id(
        fake: FakeEngine, tmp_path: Path) -> None:
    seen: list[str] = []
    (tmp_path / "ctx").mkdir()
    req = request(tmp_path / "ctx", build_args={"A": "1"}, labels={"run": "r1"},
                  target="final")
    done = build.ClassicBuilder(fake.client()).build(req, seen.append)
    (call,) = fake.called("POST", "/build")
    assert call.param("platform") == "linux/arm64" and call.param("t") == "app:arm64"
    assert json.loads(call.param("buildargs") or "{}") == {"A": "1"}
    assert json.loads(call.param("labels") or "{}") == {"run": "r1"}
    assert call.param("target") == "final" and call.param("pull") in (None, "False", "0")
    assert done.image_id == fake.images["app:arm64"]["Id"] and done.builder == "classic"
    assert "Step 1/1 : FROM tiny:1" in seen
    assert "Successfully tagged app:arm64" in req.log_path.read_text()


def test_a_classic_build_whose_step_fails_is_a_build_failure_with_its_log_tail(
        fake: FakeEngine, tmp_path: Path) -> None:
    fake.on("POST", "/build", Answer(200, b'{"stream":"Step 1/2 : RUN false\\n"}\n'
                                          b'{"error":"The command \'/bin/sh -c false\' returned '
                                          b'a non-zero code: 1"}\n', stream=True))
    req = request(tmp_path)
    with pytest.raises(BuildFailed) as said:
        build.ClassicBuilder(fake.client()).build(req)
    assert "returned a non-zero code: 1" in said.value.log_tail
    assert said.value.kind.verdict.value == "fail", said.value.kind  # the image's own fault
    assert fake.called("GET", "/_ping"), "the engine was not asked whether it is still there"
