"""The CI matrix: one job per platform, on a runner of its own architecture where GitHub has
one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.commands.matrix_cli import main
from harness.core.failures.errors import UsageError
from harness.core.platforms.matrix import ARM_RUNNER, X86_RUNNER, matrix
from harness.core.platforms.table import parse_platforms


def test_each_platform_is_a_job_on_a_native_runner_where_there_is_one() -> None:
    got = matrix(parse_platforms(["linux/amd64", "linux/386", "linux/arm64", "linux/arm/v7",
                                  "linux/riscv64"]))
    assert got == {"include": [
        {"platform": "linux/amd64", "slug": "linux-amd64", "runner": X86_RUNNER},
        {"platform": "linux/386", "slug": "linux-386", "runner": X86_RUNNER},
        {"platform": "linux/arm64", "slug": "linux-arm64", "runner": ARM_RUNNER},
        {"platform": "linux/arm/v7", "slug": "linux-arm-v7", "runner": X86_RUNNER},
        {"platform": "linux/riscv64", "slug": "linux-riscv64", "runner": X86_RUNNER},
    ]}


def test_32_bit_arm_goes_to_x86_64_runners_under_qemu_not_to_arm64_ones() -> None:
    """GitHub's ubuntu-24.04-arm runners do not execute AArch32 ("exec format error"), and
    Debian's qemu-user-static registers no arm handler on an arm64 host; x86_64 runners run
    every 32-bit arm variant under qemu-arm."""
    got = matrix(parse_platforms(["linux/arm/v7", "linux/arm/v6", "linux/arm/v5",
                                  "linux/arm64"]))
    assert [leg["runner"] for leg in got["include"]] == [X86_RUNNER] * 3 + [ARM_RUNNER]
    # An arm64 machine of the caller's that has AArch32 is still theirs to name.
    got = matrix(parse_platforms(["linux/arm/v7"]), {"linux/arm/v7": "self-hosted-arm64"})
    assert got["include"][0]["runner"] == "self-hosted-arm64"


def test_a_base_without_registry_is_docker_hub_s_as_the_docker_cli_reads_it() -> None:
    """`matrix --platforms-from-base` defaults to the Dockerfile's base, `debian:bookworm-slim`:
    it was refused as "not a registry reference"."""
    from harness.core.oci.reference import with_registry

    assert with_registry("debian:bookworm-slim") == \
        "registry-1.docker.io/library/debian:bookworm-slim"
    assert with_registry("docker.io/library/rust:1") == "registry-1.docker.io/library/rust:1"
    assert with_registry("me/app:2") == "registry-1.docker.io/me/app:2"
    assert with_registry("127.0.0.1:5000/app:1") == "127.0.0.1:5000/app:1"
    assert with_registry("ghcr.io/o/app") == "ghcr.io/o/app"


def test_a_runner_of_the_callers_replaces_the_hosted_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A repository without arm runners builds arm64 on x86 under QEMU: --runner names it."""
    monkeypatch.chdir(tmp_path)
    assert main(["--platform", "linux/amd64,linux/arm64",
                 "--runner", "linux/arm64=ubuntu-24.04"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [leg["runner"] for leg in got["include"]] == [X86_RUNNER, X86_RUNNER]
    for bad, says in ((["--runner", "linux/s390x=big"], "is not built"),
                      (["--runner", "linux/sparc=x"], "linux/sparc"),
                      (["--runner", "linux/arm64"], "not of the form")):
        with pytest.raises(UsageError, match=says):
            main(["--platform", "linux/amd64,linux/arm64", *bad])


DIGEST = "sha256:" + "ab" * 32
META = {"tags": ["ghcr.io/o/app:main", "ghcr.io/o/app:sha-1234"],
        "labels": {"org.opencontainers.image.revision": "1234"}, "annotations": []}


def builder_outputs(**outputs: object) -> str:
    """docker/github-builder's outputs as `toJSON(needs.build.outputs)` writes them: every
    value a string, meta-json one of JSON."""
    return json.dumps({"digest": DIGEST, "meta-json": json.dumps(META), "output-type": "image",
                       "signed": "true", **outputs})


def test_github_builder_outputs_name_the_index_by_its_digest_not_its_tag() -> None:
    from harness.core.platforms.matrix import builder_reference

    assert builder_reference(builder_outputs()) == f"ghcr.io/o/app@{DIGEST}"
    # A name without a registry (Docker Hub), one with a port, meta-json already an object.
    for tag, want in (("name/app:1.0", "name/app"), ("127.0.0.1:5000/app:1", "127.0.0.1:5000/app"),
                      ("127.0.0.1:5000/app", "127.0.0.1:5000/app")):
        got = builder_reference(json.dumps({"digest": DIGEST, "meta-json": {"tags": [tag]}}))
        assert got == f"{want}@{DIGEST}"


@pytest.mark.parametrize(("text", "says"), [
    ("not json", "not github-builder's outputs"),
    ("[1, 2]", "not github-builder's outputs"),
    (builder_outputs(digest=""), "no image digest"),
    (builder_outputs(digest="sha256:12"), "no image digest"),
    (builder_outputs(**{"output-type": "local"}), "local output"),
    (builder_outputs(**{"meta-json": json.dumps({"tags": []})}), "names no image"),
    (builder_outputs(**{"meta-json": "{"}), "not github-builder's outputs"),
    (builder_outputs(**{"meta-json": json.dumps({"tags": ["Bad Name:1"]})}), "not an image"),
    (json.dumps({"digest": DIGEST, "meta-json": "x" * (2 << 20)}), "not github-builder's"),
])
def test_what_is_not_an_image_github_builder_pushed_is_one_line_of_bad_input(
        text: str, says: str) -> None:
    from harness.core.platforms.matrix import builder_reference

    with pytest.raises(UsageError, match=says) as caught:
        builder_reference(text)
    assert "\n" not in caught.value.message and len(caught.value.message) < 200


def test_pin_takes_exactly_one_of_a_ref_and_the_builder_outputs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither (an unset input) must not check nothing; both is ambiguous: bad input, before
    any registry is asked."""
    monkeypatch.chdir(tmp_path)
    for argv in (["--pin", ""], ["--pin"], ["--pin", "", "--builder-outputs", " "],
                 ["--pin", "127.0.0.1:9/app:1", "--builder-outputs", builder_outputs()]):
        with pytest.raises(UsageError, match="exactly one"):
            main(argv)
    with pytest.raises(UsageError, match="goes with --pin"):
        main(["--builder-outputs", builder_outputs()])


def test_the_registry_to_log_in_to_is_known_before_it_is_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """check.yml logs in before the pin (a private registry answers nothing anonymous): the
    host comes from the inputs alone; port 9 of loopback answers nothing, so a lookup would
    fail."""
    monkeypatch.chdir(tmp_path)
    outputs = json.dumps({"digest": DIGEST, "meta-json": json.dumps(
        {"tags": ["127.0.0.1:9/app:1"]})})
    for argv, host in ((["--pin", "", "--builder-outputs", outputs], "127.0.0.1:9"),
                       (["--pin", "ghcr.io/o/app:1"], "ghcr.io"),
                       (["--pin", "me/app:1"], "registry-1.docker.io")):
        assert main([*argv, "--registry-host"]) == 0
        assert capsys.readouterr().out == f"{host}\n"
    with pytest.raises(UsageError, match="goes with --pin"):
        main(["--registry-host"])


@given(host=st.sampled_from(["", "ghcr.io/", "127.0.0.1:5000/", "localhost:5000/", "[::1]:5000/"]),
       path=st.lists(st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,4})?", fullmatch=True),
                     min_size=1, max_size=3),
       tag=st.one_of(st.just(""), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}",
                                                fullmatch=True)))
def test_the_repository_is_the_meta_tag_without_its_tag_whatever_the_port(
        host: str, path: list[str], tag: str) -> None:
    """A registry's port is a colon too: only the colon after the last slash starts a tag."""
    from harness.core.platforms.matrix import builder_reference

    repository = host + "/".join(path)
    name = f"{repository}:{tag}" if tag else repository
    outputs = json.dumps({"digest": DIGEST, "meta-json": json.dumps({"tags": [name]})})
    assert builder_reference(outputs) == f"{repository}@{DIGEST}"
