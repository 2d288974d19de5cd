"""Publishing with attestations, read back by Docker's own tool and the registry API: the
SBOM, the provenance and the harness's verification of each platform (harness.core.attest)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.core import attest
from harness.core.outcomes import Exit
from harness.distribution.local_registry import LocalRegistry
from harness.distribution.registry import Registry
from tests.helpers import FIXTURES, ROOT, imagetools, run_cli, run_harness

harness = run_cli

PLATFORMS = ("linux/amd64", "linux/arm64")
DOCKERFILE = FIXTURES / "attest" / "Dockerfile"


@pytest.fixture(scope="module")
def registry(docker_client: docker.DockerClient) -> Iterator[LocalRegistry]:
    with LocalRegistry(docker_client) as reg:
        yield reg


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture image built by the harness for two platforms, with its report."""
    where = tmp_path_factory.mktemp("attested")
    run = run_harness(f"--platform={','.join(PLATFORMS)}", f"--dockerfile={DOCKERFILE}",
                      f"--report-dir={where}", "--image=harness-test/attest", "--require=",
                      "-n", "2")
    assert run.returncode == Exit.OK, run.stdout[-3000:]
    return where


def attestation_entries(reg: Registry, repo: str, tag: str) -> list[dict[str, Any]]:
    _media, body, _digest = reg.get_manifest(repo, tag)
    return [m for m in json.loads(body)["manifests"] if attest.is_attestation(m)]


def test_publish_attests_each_platform_in_the_form_docker_buildx_reads(
        registry: LocalRegistry, built: Path) -> None:
    pub = harness("publish", f"--registry={registry.host}/att", "--tag=v1",
                  "--image=harness-test/attest", f"--platform={','.join(PLATFORMS)}",
                  f"--report-dir={built}")
    assert pub.returncode == Exit.OK, pub.stdout + pub.stderr
    report = json.loads((built / "report.json").read_text())
    by_platform = {p["platform"]: p for p in report["platforms"]}
    ref = f"{registry.host}/att:v1"

    sboms = imagetools(ref, "SBOM")
    assert sorted(sboms) == sorted(PLATFORMS)
    for platform, arch in (("linux/amd64", "amd64"), ("linux/arm64", "arm64")):
        spdx = sboms[platform]["SPDX"]
        names = {p["name"]: p for p in spdx["packages"]}
        # The program the Dockerfile copied is no package's (known bad); ls's own is
        # coreutils' and is not named as a file (known good).
        assert "/usr/local/bin/tool" in names
        assert "/usr/bin/ls" not in names and "/bin/ls" not in names
        purl = names["coreutils"]["externalRefs"][0]["referenceLocator"]
        assert purl.startswith("pkg:deb/debian/coreutils@") and f"arch={arch}" in purl
        listed = by_platform[platform]["observed"]["packages"]["detail"]["packages"]
        assert len([p for p in spdx["packages"] if "externalRefs" in p]) == len(listed)

    provenance = imagetools(ref, "Provenance")
    for platform in PLATFORMS:
        slsa = provenance[platform]["SLSA"]
        source = slsa["invocation"]["configSource"]
        assert source["entryPoint"] == DOCKERFILE.relative_to(ROOT).as_posix()
        assert source["digest"] == {"sha256": hashlib.sha256(DOCKERFILE.read_bytes())
                                    .hexdigest()}
        base = by_platform[platform]["image"]["base"]
        assert slsa["invocation"]["parameters"]["args"] == {"build-arg:BASE_IMAGE": base}
        assert any(m["uri"] == f"pkg:docker/{base}" for m in slsa["materials"])

    # The harness's own statement, read through the registry API: the verdict it gave.
    with Registry(registry.host) as reg:
        entries = attestation_entries(reg, "att", "v1")
        assert len(entries) == len(PLATFORMS)
        for entry in entries:
            body = json.loads(reg.get_manifest("att", entry["digest"])[1])
            [layer] = [la for la in body["layers"]
                       if la["annotations"][attest.PREDICATE_TYPE] == attest.VERIFICATION]
            statement = json.loads(reg.get_blob("att", layer["digest"]))
            seen = statement["predicate"]
            assert statement["subject"][0]["digest"]["sha256"] == \
                entry["annotations"][attest.REFERENCE_DIGEST].removeprefix("sha256:")
            assert seen["verdict"] == by_platform[seen["platform"]]["verdict"] == "pass"
            assert seen["answers"]["uname"]["value"] == \
                by_platform[seen["platform"]]["observed"]["uname"]["value"]

    # merge keeps them, as `docker buildx imagetools create` does.
    merge = harness("merge", f"--registry={registry.host}/att", "--tag=merged",
                    f"{registry.host}/att:v1")
    assert merge.returncode == Exit.OK, merge.stderr
    with Registry(registry.host) as reg:
        assert attestation_entries(reg, "att", "merged") == attestation_entries(reg, "att", "v1")
    assert sorted(imagetools(f"{registry.host}/att:merged", "SBOM")) == sorted(PLATFORMS)


def test_no_attest_publishes_none_and_no_report_is_bad_input_before_any_push(
        registry: LocalRegistry, built: Path, tmp_path: Path) -> None:
    plain = harness("publish", f"--registry={registry.host}/att", "--tag=plain", "--no-attest",
                    "--image=harness-test/attest", f"--platform={','.join(PLATFORMS)}",
                    f"--report-dir={built}")
    assert plain.returncode == Exit.OK, plain.stderr
    with Registry(registry.host) as reg:
        assert attestation_entries(reg, "att", "plain") == []
    missing = harness("publish", f"--registry={registry.host}/none", "--tag=v1",
                      "--image=harness-test/attest", f"--platform={','.join(PLATFORMS)}",
                      f"--report-dir={tmp_path}")
    assert missing.returncode == Exit.USAGE
    assert "no report of the build" in missing.stderr and "--no-attest" in missing.stderr
    with Registry(registry.host) as reg:
        assert reg.tags("none") == []
