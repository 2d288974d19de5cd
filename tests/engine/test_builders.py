"""Both builders against the real engine: BuildKit through buildx, and the classic builder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from harness.containers import build, engine, probes
from harness.containers.bases import matches
from harness.core.failures.errors import BuildFailed, HarnessError
from harness.core.judging.verdicts import judge
from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platform
from harness.machine.host import read_handlers, run_mode
from tests.helpers import run_harness

FIXTURES = Path(__file__).parents[1] / "fixtures"
BUILDERS = ["buildx", "classic"]


@pytest.fixture(params=BUILDERS)
def builder(request: pytest.FixtureRequest,
            docker_client: docker.DockerClient) -> build.Builder:
    buildx = engine.buildx_version()
    if request.param == "buildx" and not buildx:
        pytest.fail("the buildx plugin is missing: `nox -s preflight` installs it")
    return build.choose(request.param, docker_client, buildx)


@pytest.fixture
def tags(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Tags a test builds; removed afterwards so no test leaves an image behind."""
    made: list[str] = []
    yield made
    for tag in made:
        if engine.image_exists(docker_client, tag):
            docker_client.images.remove(tag, force=True)


def request_for(name: str, fixture: str, base: str, tag: str, log: Path) -> build.BuildRequest:
    context = FIXTURES / fixture
    return build.BuildRequest(platform=parse_platform(name), dockerfile=context / "Dockerfile",
                              context=context, tag=tag, log_path=log,
                              build_args={"BASE_IMAGE": base})


@pytest.mark.parametrize("name", ["linux/arm64", "linux/386"])
def test_builds_the_platform_asked_for(builder: build.Builder, name: str,
                                       docker_client: docker.DockerClient,
                                       tiny_base: Callable[[str], str], tags: list[str],
                                       tmp_path: Path) -> None:
    tag = f"harness-test/tiny-{builder.name}:{parse_platform(name).slug}"
    tags.append(tag)
    lines: list[str] = []
    req = request_for(name, "tiny", tiny_base(name), tag, tmp_path / "build.log")
    outcome = builder.build(req, on_line=lines.append)
    assert outcome.builder == builder.name and outcome.tag == tag
    assert docker_client.images.get(tag).id == outcome.image_id
    assert matches(docker_client, tag, parse_platform(name))
    assert lines and (tmp_path / "build.log").read_text().strip()
    # The RUN step ran the platform's own binaries: its output is in the image.
    platform = parse_platform(name)
    arch = docker_client.info()["Architecture"]
    found = probes.observe(docker_client, tag, platform).observations
    got = judge(platform, found, arch, run_mode(platform, arch, read_handlers()))
    assert got.verdict in ("pass", "quirk"), got.findings


def test_a_failing_run_step_is_a_build_failure_with_the_log_tail(
        builder: build.Builder, tiny_base: Callable[[str], str], tags: list[str],
        tmp_path: Path) -> None:
    tag = f"harness-test/fails-{builder.name}:linux-arm64"
    tags.append(tag)
    req = request_for("linux/arm64", "run-fails-on-arm64", tiny_base("linux/arm64"), tag,
                      tmp_path / "build.log")
    with pytest.raises(BuildFailed) as info:
        builder.build(req)
    assert "arm64 is not supported" in info.value.log_tail
    assert str(tmp_path / "build.log") in info.value.message
    assert "arm64 is not supported" in (tmp_path / "build.log").read_text()


def test_the_same_dockerfile_builds_on_the_other_platform(
        builder: build.Builder, tiny_base: Callable[[str], str], tags: list[str],
        tmp_path: Path) -> None:
    tag = f"harness-test/fails-{builder.name}:linux-386"
    tags.append(tag)
    req = request_for("linux/386", "run-fails-on-arm64", tiny_base("linux/386"), tag,
                      tmp_path / "build.log")
    assert builder.build(req).tag == tag


def test_a_shared_base_tag_of_another_platform_is_caught(
        docker_client: docker.DockerClient, tiny_base: Callable[[str], str], tags: list[str],
        tmp_path: Path) -> None:
    """The engine trap: FROM a tag that exists locally as linux/386, built for linux/arm64.

    The classic builder on this engine reuses the 386 image silently. The harness never builds
    that way (every platform has its own base tag); if an image comes out so anyway, the
    config source says so.
    """
    classic = build.ClassicBuilder(docker_client)
    tag = "harness-test/trap:linux-arm64"
    tags.append(tag)
    req = request_for("linux/arm64", "tiny", tiny_base("linux/386"), tag, tmp_path / "b.log")
    platform = parse_platform("linux/arm64")
    arch = docker_client.info()["Architecture"]
    try:
        classic.build(req)
    except HarnessError as exc:
        # An engine that refuses the mismatch: never a pass, and the image is what is wrong.
        assert exc.kind.verdict == "fail", exc
    else:
        found = probes.observe(docker_client, tag, platform).observations
        got = judge(platform, found, arch, run_mode(platform, arch, read_handlers()))
        assert got.verdict == "fail"
        assert {f.source for f in got.findings if f.kind == "mismatch"} >= {"config", "dpkg"}


def test_a_secret_reaches_the_step_and_no_file_of_the_run(tmp_path: Path) -> None:
    """--secret and --target as buildx takes them: the RUN step that needs the secret passes
    (so it was mounted), the stage after the target is never built (its RUN false would fail
    the build), and the value is in no log or report the run wrote."""
    value = "never-shown"
    dockerfile = f"--dockerfile={FIXTURES / 'secret' / 'Dockerfile'}"
    run = run_harness("--platform=linux/amd64", dockerfile, f"--report-dir={tmp_path}",
                      "--image=harness-test/secret", "--require=", "--target=base",
                      "--secret=id=token,env=HARNESS_TEST_TOKEN", "--no-cache",
                      env={"HARNESS_TEST_TOKEN": value})
    assert run.returncode == Exit.OK, run.stdout[-3000:]
    assert value not in run.stdout + run.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.endswith("-build.log") for p in written)
    assert all(value.encode() not in p.read_bytes() for p in written)
    # Known bad: another value fails the step, so the pass above was the secret's.
    wrong = run_harness("--platform=linux/amd64", dockerfile, f"--report-dir={tmp_path / 'w'}",
                        "--image=harness-test/secret", "--require=", "--target=base",
                        "--secret=id=token,env=HARNESS_TEST_TOKEN", "--no-cache",
                        env={"HARNESS_TEST_TOKEN": "another"})
    assert wrong.returncode == Exit.IMAGE_WRONG, wrong.stdout[-3000:]
    # Bad input before any build: a secret from a variable that is not set.
    missing = run_harness("--platform=linux/amd64", dockerfile,
                          f"--report-dir={tmp_path / 'none'}", "--image=harness-test/secret",
                          "--require=", "--target=base", "--secret=id=token,env=HARNESS_UNSET")
    assert missing.returncode == Exit.USAGE
    assert "HARNESS_UNSET is not set" in missing.stdout + missing.stderr
