"""Publishing with attestations and metadata, read back by Docker's own tool and the registry
API: the SBOM, the provenance and the harness's verification of each platform
(harness.core.reporting.attest); tags from metadata-action's templates and OCI annotations
(harness.core.buildspec.metadata)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.containers.local_registry import LocalRegistry
from harness.core.outcomes import Exit
from harness.core.reporting import attest
from harness.core.results.platform_result import PlatformResult
from harness.distribution import attestations
from harness.distribution.registry import Registry
from tests.helpers import FIXTURES, ROOT, debian_package, imagetools, run_cli, run_harness

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
                      "--label=dev.example.team=core", "-n", "2")
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


ACTIONS_SHA = "ab" * 20


def raw(ref: str) -> dict[str, Any]:
    """What `docker buildx imagetools inspect --raw` reads of ``ref``."""
    out = subprocess.run(["docker", "buildx", "imagetools", "inspect", "--raw", ref],
                         capture_output=True, text=True, check=True, timeout=120)
    found: dict[str, Any] = json.loads(out.stdout)
    return found


def test_publish_tags_from_metadata_action_templates_and_annotates_as_buildx(
        registry: LocalRegistry, built: Path, tmp_path: Path,
        docker_client: docker.DockerClient) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"repository": {"default_branch": "main"}}))
    actions = {"GITHUB_REF": "refs/tags/v1.4.2", "GITHUB_SHA": ACTIONS_SHA,
               "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "team/app",
               "GITHUB_EVENT_PATH": str(event)}
    common = ("--image=harness-test/attest", f"--platform={','.join(PLATFORMS)}",
              f"--report-dir={built}")
    templates = ("--tag-template=type=semver,pattern={{version}}",
                 "--tag-template=type=semver,pattern={{major}}.{{minor}}",
                 "--tag-template=type=sha", "--tag-template=type=ref,event=branch",
                 "--annotation=index:org.opencontainers.image.title=app",
                 "--annotation=manifest[linux/arm64]:dev.example.cpu=neoverse-n1")
    pub = harness("publish", f"--registry={registry.host}/meta", *templates, *common,
                  env=actions)
    assert pub.returncode == Exit.OK, pub.stdout + pub.stderr
    with Registry(registry.host) as reg:
        # A release tag's tags; the branch template gives nothing on a tag build.
        assert sorted(reg.tags("meta")) == ["1.4", "1.4.2", "latest", "sha-ababab" + "a"]
        first = reg.get_manifest("meta", "1.4.2")[2]
    report = json.loads((built / "report.json").read_text())
    index = raw(f"{registry.host}/meta:1.4.2")
    oci = "org.opencontainers.image."
    assert index["annotations"][oci + "title"] == "app"
    assert index["annotations"][oci + "version"] == "1.4.2"
    assert index["annotations"][oci + "revision"] == ACTIONS_SHA
    assert index["annotations"][oci + "source"] == "https://github.com/team/app"
    created = index["annotations"][oci + "created"]
    assert created.removesuffix("Z") == report["run"]["start"].removesuffix("+00:00")
    for entry in index["manifests"]:
        if attest.is_attestation(entry):
            continue
        platform = f"{entry['platform']['os']}/{entry['platform']['architecture']}"
        manifest = raw(f"{registry.host}/meta@{entry['digest']}")
        assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        assert manifest["annotations"][oci + "version"] == "1.4.2"
        assert ("dev.example.cpu" in manifest["annotations"]) == (platform == "linux/arm64")
    # The annotated manifests are still the image: Docker pulls one and runs it, and the
    # attestations speak of them.
    amd64 = next(e["digest"] for e in index["manifests"]
                 if e["platform"]["architecture"] == "amd64")
    pulled = f"{registry.host}/meta@{amd64}"
    try:
        out = docker_client.containers.run(pulled, ["uname", "-m"], remove=True)
        assert out.decode().strip() == "x86_64"
        # --label on the build: in the image's own config, as docker buildx build sets it.
        assert docker_client.images.get(pulled).labels["dev.example.team"] == "core"
    finally:
        docker_client.images.remove(pulled, force=True)
    assert sorted(imagetools(f"{registry.host}/meta:1.4.2", "SBOM")) == sorted(PLATFORMS)
    # Published again from the same build: the same manifests (created is the build's).
    again = harness("publish", f"--registry={registry.host}/meta", *templates, *common,
                    env=actions)
    assert again.returncode == Exit.OK, again.stderr
    with Registry(registry.host) as reg:
        assert reg.get_manifest("meta", "1.4.2")[2] == first

    # merge annotates the index it writes, and refuses manifest annotations it cannot write.
    merged = harness("merge", f"--registry={registry.host}/meta", "--tag=all",
                     "--annotation=index:dev.example.merged=yes", f"{registry.host}/meta:1.4.2",
                     env=actions)
    assert merged.returncode == Exit.OK, merged.stderr
    assert raw(f"{registry.host}/meta:all")["annotations"]["dev.example.merged"] == "yes"
    refused = harness("merge", f"--registry={registry.host}/meta", "--tag=nope",
                      "--annotation=manifest:dev.example.x=y", f"{registry.host}/meta:1.4.2")
    assert refused.returncode == Exit.USAGE and "give it to publish" in refused.stderr


@pytest.mark.parametrize(("flag", "says"), [
    ("--tag-template=type=semver", "needs pattern="),
    ("--annotation=layer:dev.example.x=y", "unknown level 'layer'"),
    ("--tag-template=type=raw,value=-bad", "not a tag"),
])
def test_a_bad_template_or_annotation_is_bad_input_before_any_push(
        registry: LocalRegistry, built: Path, flag: str, says: str) -> None:
    bad = harness("publish", f"--registry={registry.host}/refused", "--tag=v1", flag,
                  "--image=harness-test/attest", f"--platform={','.join(PLATFORMS)}",
                  f"--report-dir={built}")
    assert bad.returncode == Exit.USAGE, bad.stderr
    assert says in bad.stderr and len(bad.stderr.strip().splitlines()) <= 2
    with Registry(registry.host) as reg:
        assert reg.tags("refused") == []


def test_check_compares_what_it_sees_with_each_platforms_verification(
        registry: LocalRegistry, built: Path, tmp_path: Path) -> None:
    """Known good: the published tag, checked on this machine, agrees with what its publisher
    attested. Known bad: the same manifests under an index whose amd64 statement says its
    userland was arm64, and whose arm64 statement is attached to another manifest."""
    pub = harness("publish", f"--registry={registry.host}/cmp", "--tag=v1",
                  "--image=harness-test/attest", f"--platform={','.join(PLATFORMS)}",
                  f"--report-dir={built}")
    assert pub.returncode == Exit.OK, pub.stderr
    good = run_harness(f"--ref={registry.host}/cmp:v1", f"--platform={','.join(PLATFORMS)}",
                       f"--report-dir={tmp_path / 'good'}", "--require=", "-n", "2")
    assert good.returncode == Exit.OK, good.stdout[-3000:]
    seen = json.loads((tmp_path / "good" / "report.json").read_text())
    assert {p: a["verdict"] for p, a in seen["index"]["attested"].items()} == \
        dict.fromkeys(PLATFORMS, "pass")
    assert seen["index"]["findings"] == []

    report = json.loads((built / "report.json").read_text())
    by_platform = {p["platform"]: p for p in report["platforms"]}
    facts = attest.BuildFacts(dockerfile="", dockerfile_sha256="", build_args={}, bases={},
                              builder="", engine_version="", buildx_version="",
                              harness_version="test", repository="", revision="", started="",
                              finished="")
    with Registry(registry.host) as reg:
        media, body, _ = reg.get_manifest("cmp", "v1")
        index = json.loads(body)
        digest = {f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
                  for m in index["manifests"] if not attest.is_attestation(m)}
        lying = json.loads(json.dumps(by_platform["linux/amd64"]))
        lying["observed"]["dpkg"]["value"] = "arm64"
        amd64 = attestations.push(reg, "cmp", attest.statements(
            PlatformResult.from_dict(lying), f"{registry.host}/cmp", digest["linux/amd64"],
            facts), digest["linux/amd64"])
        # arm64's entry names arm64's manifest, but its statements are made for amd64's.
        moved = attestations.push(reg, "cmp", attest.statements(
            PlatformResult.from_dict(by_platform["linux/arm64"]), f"{registry.host}/cmp",
            digest["linux/amd64"], facts), digest["linux/amd64"])
        moved["annotations"][attest.REFERENCE_DIGEST] = digest["linux/arm64"]
        index["manifests"] = [m for m in index["manifests"] if not attest.is_attestation(m)] + \
            [amd64, moved]
        reg.put_manifest("cmp", "tampered", json.dumps(index).encode(), media)
    bad = run_harness(f"--ref={registry.host}/cmp:tampered", f"--platform={','.join(PLATFORMS)}",
                      f"--report-dir={tmp_path / 'bad'}", "--require=", "-n", "2")
    found = json.loads((tmp_path / "bad" / "report.json").read_text())
    messages = [f["message"] for f in found["index"]["findings"]]
    assert any(m.startswith("linux/amd64: dpkg answered 'arm64' to its publisher")
               and "'amd64' here" in m for m in messages), messages
    assert any("linux/arm64: its verification statement speaks of another manifest" in m
               for m in messages), messages
    assert not any("uname" in m for m in messages)  # host-bound answers are not compared
    assert bad.returncode == Exit.IMAGE_WRONG and found["verdict"] == "fail"
    # What each platform is has not changed: both images still pass their own checks.
    assert {p["platform"]: p["verdict"] for p in found["platforms"]} == \
        dict.fromkeys(PLATFORMS, "pass")


def key_pair(where: Path, password: str) -> tuple[Path, Path]:
    """A cosign key pair made by cosign itself: (private key, public key)."""
    where.mkdir()
    subprocess.run([debian_package("cosign", "cosign/trixie"), "generate-key-pair"], cwd=where,
                   env={**os.environ, "COSIGN_PASSWORD": password}, check=True,
                   capture_output=True, timeout=120)
    return where / "cosign.key", where / "cosign.pub"


def cosign(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["cosign", *args], capture_output=True, text=True, timeout=120,
                          check=False, stdin=subprocess.DEVNULL)


def test_publish_signs_with_a_key_and_cosign_verifies_it(
        registry: LocalRegistry, built: Path, tmp_path: Path) -> None:
    key, public = key_pair(tmp_path / "ours", "s3cret-pw")
    _, stranger = key_pair(tmp_path / "theirs", "other")
    common = ("--image=harness-test/attest", f"--platform={','.join(PLATFORMS)}",
              f"--report-dir={built}")
    # Bad input before any push: a wrong password, a key that is not there.
    for env, sign in (({"COSIGN_PASSWORD": "wrong"}, str(key)),
                      ({"COSIGN_PASSWORD": "s3cret-pw"}, str(tmp_path / "none.key"))):
        refused = harness("publish", f"--registry={registry.host}/unsigned", "--tag=v1",
                          f"--sign={sign}", *common, env=env)
        assert refused.returncode == Exit.USAGE, refused.stderr
        assert "s3cret-pw" not in refused.stderr + refused.stdout
    with Registry(registry.host) as reg:
        assert reg.tags("unsigned") == []

    pub = harness("publish", f"--registry={registry.host}/signed", "--tag=v1",
                  f"--sign={key}", *common, env={"COSIGN_PASSWORD": "s3cret-pw"})
    assert pub.returncode == Exit.OK, pub.stdout + pub.stderr
    assert "s3cret-pw" not in pub.stdout + pub.stderr
    ref = f"{registry.host}/signed:v1"
    assert cosign("verify", "--key", str(public), "--insecure-ignore-tlog=true", ref
                  ).returncode == 0
    # Known bad: another key's signature is not found; cosign's verify is not vacuous.
    assert cosign("verify", "--key", str(stranger), "--insecure-ignore-tlog=true", ref
                  ).returncode != 0
    report = json.loads((built / "report.json").read_text())
    verdicts = {p["platform"]: p["verdict"] for p in report["platforms"]}
    index = json.loads(subprocess.run(["docker", "buildx", "imagetools", "inspect", "--raw", ref],
                                      capture_output=True, text=True, check=True).stdout)
    for entry in index["manifests"]:
        if attest.is_attestation(entry):
            continue
        platform = f"{entry['platform']['os']}/{entry['platform']['architecture']}"
        by_digest = f"{registry.host}/signed@{entry['digest']}"
        # Every platform's manifest is signed (--recursive), and carries its verdict as a
        # signed attestation.
        assert cosign("verify", "--key", str(public), "--insecure-ignore-tlog=true",
                      by_digest).returncode == 0
        verified = cosign("verify-attestation", "--key", str(public),
                          "--insecure-ignore-tlog=true", "--type", attest.VERIFICATION,
                          by_digest)
        assert verified.returncode == 0, verified.stderr
        envelope = json.loads(verified.stdout.splitlines()[0])
        statement = json.loads(base64.b64decode(envelope["payload"]))
        assert statement["predicate"]["verdict"] == verdicts[platform]
        assert statement["predicate"]["platform"] == platform
