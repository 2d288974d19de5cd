"""Publishing against a real registry (CNCF distribution, in a container on loopback)."""

from __future__ import annotations

import base64
import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bcrypt
import docker
import pytest

from harness.containers.local_registry import LocalRegistry
from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platform
from harness.core.reporting.report import build_report
from harness.core.results.platform_result import ImageInfo
from harness.distribution import publish
from harness.distribution.registry import MANIFEST_V2, AuthError, Registry, RegistryError, digest_of
from tests.factories import HOST, result
from tests.helpers import FIXTURES, ROOT, TINY, free_port, run_cli, run_harness

PLATFORMS = ("linux/amd64", "linux/386", "linux/arm64")
TINY_DOCKERFILE = FIXTURES / "tiny" / "Dockerfile"


# These images are tiny bases tagged as built, with no build report to attest from: they are
# published as images built elsewhere are, without attestations (test_attestations has them).
PUBLISH = ("publish", "--no-attest")


harness = run_cli


@pytest.fixture(scope="module")
def registry(docker_client: docker.DockerClient) -> Iterator[LocalRegistry]:
    with LocalRegistry(docker_client) as reg:
        yield reg


@pytest.fixture(scope="module")
def images(docker_client: docker.DockerClient, tiny_base: Callable[[str], str]) -> str:
    """Built images as `nox -s build` leaves them: NAME:PLATFORM-SLUG (here, tiny bases)."""
    for name in PLATFORMS:
        docker_client.images.get(tiny_base(name)).tag("harness-test/pub",
                                                      parse_platform(name).slug)
    return "harness-test/pub"


def platform_args(*names: str) -> list[str]:
    return [f"--platform={n}" for n in names]


def index_of(reg: Registry, repo: str, tag: str) -> dict[str, Any]:
    _media, body, _digest = reg.get_manifest(repo, tag)
    doc: dict[str, Any] = json.loads(body)
    return doc


def platforms_in(doc: dict[str, Any]) -> list[str]:
    return sorted("/".join(v for v in (m["platform"]["os"], m["platform"]["architecture"],
                                       m["platform"].get("variant")) if v)
                  for m in doc["manifests"])


def test_publish_by_digest_leaves_exactly_the_tags_asked_for(registry: LocalRegistry,
                                                             images: str,
                                                             tmp_path: Path) -> None:
    run = harness(*PUBLISH, f"--registry={registry.host}/pub", "--tag=1.0", "--tag=latest",
                  f"--image={images}", f"--report-dir={tmp_path}", *platform_args(*PLATFORMS))
    assert run.returncode == Exit.OK, run.stdout + run.stderr
    with Registry(registry.host) as reg:
        assert reg.tags("pub") == ["1.0", "latest"]  # no per-platform tag
        latest, one = reg.get_manifest("pub", "latest"), reg.get_manifest("pub", "1.0")
        assert latest[2] == one[2]
        assert platforms_in(json.loads(latest[1])) == sorted(PLATFORMS)
    files = sorted((tmp_path / "digests").rglob("*.json"))
    assert [f.name for f in files] == ["linux-386.json", "linux-amd64.json", "linux-arm64.json"]
    again = harness(*PUBLISH, f"--registry={registry.host}/pub", "--tag=latest",
                    f"--image={images}", f"--report-dir={tmp_path}", *platform_args(*PLATFORMS))
    assert again.returncode == Exit.OK
    assert again.stdout.count("(0 blobs uploaded)") == len(PLATFORMS)  # each blob once


def test_one_publish_to_two_registries(registry: LocalRegistry, images: str,
                                       docker_client: docker.DockerClient,
                                       tmp_path: Path) -> None:
    """As the seed pushes to two registries: the same index under the same tag in each."""
    with LocalRegistry(docker_client) as second:
        run = harness(*PUBLISH, f"--registry={registry.host}/two",
                      f"--registry={second.host}/mirror/two", "--tag=both", f"--image={images}",
                      f"--report-dir={tmp_path}", *platform_args(*PLATFORMS))
        assert run.returncode == Exit.OK, run.stderr
        with Registry(registry.host) as a, Registry(second.host) as b:
            assert a.get_manifest("two", "both")[2] == b.get_manifest("mirror/two", "both")[2]
            assert b.tags("mirror/two") == ["both"]


def test_the_engine_pulls_each_platform_by_its_own_digest(registry: LocalRegistry,
                                                          images: str,
                                                          docker_client: docker.DockerClient,
                                                          tmp_path: Path) -> None:
    harness(*PUBLISH, f"--registry={registry.host}/pub", "--tag=pulled", f"--image={images}",
            f"--report-dir={tmp_path}", *platform_args(*PLATFORMS))
    with Registry(registry.host) as reg:
        for e in publish.platform_entries(reg, "pub", "pulled"):
            image = docker_client.images.pull(f"{registry.host}/pub@{e.digest}",
                                              platform=e.platform)
            p = parse_platform(e.platform)
            assert (image.attrs["Architecture"], image.attrs.get("Variant")) == \
                (p.architecture, p.variant)


def test_merge_from_digest_files_of_separate_jobs(registry: LocalRegistry, images: str,
                                                  tmp_path: Path) -> None:
    """The CI matrix shape: each job pushes one platform by digest; a last job merges."""
    for name in PLATFORMS:
        job = harness(*PUBLISH, f"--registry={registry.host}/pub", "--no-index",
                      f"--image={images}", f"--report-dir={tmp_path / name.replace('/', '-')}",
                      f"--digest-dir={tmp_path / 'artifacts' / name.replace('/', '-')}",
                      f"--platform={name}")
        assert job.returncode == Exit.OK, job.stderr
    merge = harness("merge", f"--registry={registry.host}/pub", "--tag=matrix",
                    f"--from={tmp_path / 'artifacts'}")
    assert merge.returncode == Exit.OK, merge.stderr
    with Registry(registry.host) as reg:
        assert platforms_in(index_of(reg, "pub", "matrix")) == sorted(PLATFORMS)


def test_merge_from_plain_manifests(registry: LocalRegistry, images: str,
                                    docker_client: docker.DockerClient) -> None:
    """Single-platform manifests by digest: each platform is read from the image config."""
    with Registry(registry.host) as reg:
        entries = [publish.push_image(docker_client, reg, "plain", f"{images}:{p.slug}", p)
                   for p in map(parse_platform, PLATFORMS)]
    merge = harness("merge", f"--registry={registry.host}/plain", "--tag=merged",
                    *[f"{registry.host}/plain@{e.digest}" for e in entries])
    assert merge.returncode == Exit.OK, merge.stderr
    with Registry(registry.host) as reg:
        doc = index_of(reg, "plain", "merged")
        assert reg.tags("plain") == ["merged"]
    assert platforms_in(doc) == sorted(PLATFORMS)
    assert {m["digest"] for m in doc["manifests"]} == {e.digest for e in entries}


def _push_attestation(reg: Registry, repo: str) -> dict[str, Any]:
    """An attestation manifest as buildx attaches them: platform unknown/unknown."""
    config = b'{"architecture":"unknown","os":"unknown","rootfs":{"type":"layers"}}'
    reg.push_blob(repo, digest_of(config), config, len(config))
    layer = b'{"predicateType":"https://slsa.dev/provenance/v0.2"}'
    reg.push_blob(repo, digest_of(layer), layer, len(layer))
    body = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_V2,
                       "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                  "digest": digest_of(config), "size": len(config)},
                       "layers": [{"mediaType": "application/vnd.in-toto+json",
                                   "digest": digest_of(layer), "size": len(layer)}]}).encode()
    digest = reg.put_manifest(repo, digest_of(body), body, MANIFEST_V2)
    return {"mediaType": MANIFEST_V2, "digest": digest, "size": len(body),
            "platform": {"architecture": "unknown", "os": "unknown"}}


def test_merge_from_an_index_with_an_attestation_entry(registry: LocalRegistry, images: str,
                                                       docker_client: docker.DockerClient) -> None:
    with Registry(registry.host) as reg:
        arm = publish.push_image(docker_client, reg, "att", f"{images}:linux-arm64",
                                 parse_platform("linux/arm64"))
        amd = publish.push_image(docker_client, reg, "att", f"{images}:linux-amd64",
                                 parse_platform("linux/amd64"))
        # What buildx pushes for one platform: an index of the image and its attestation.
        single = json.dumps({"schemaVersion": 2, "mediaType": publish.MANIFEST_LIST,
                             "manifests": [arm.descriptor(), _push_attestation(reg, "att")]})
        reg.put_manifest("att", "arm64-with-provenance", single.encode(), publish.MANIFEST_LIST)
    merge = harness("merge", f"--registry={registry.host}/att", "--tag=both",
                    f"{registry.host}/att:arm64-with-provenance",
                    f"{registry.host}/att@{amd.digest}")
    assert merge.returncode == Exit.OK, merge.stderr
    with Registry(registry.host) as reg:
        doc = index_of(reg, "att", "both")
    assert platforms_in(doc) == ["linux/amd64", "linux/arm64"]
    assert {m["digest"] for m in doc["manifests"]} == {arm.digest, amd.digest}


def test_concurrent_publishes_keep_their_own_content(registry: LocalRegistry, images: str,
                                                     docker_client: docker.DockerClient) -> None:
    other = docker_client.images.get(f"{images}:linux-amd64")
    container = docker_client.containers.create(other.id, command=["true"])
    try:
        container.commit("harness-test/pub-other", "linux-amd64",
                         changes=['LABEL run="other"'])
    finally:
        container.remove(force=True)
    amd64 = parse_platform("linux/amd64")
    got: dict[str, str] = {}

    def run(image: str, tag: str) -> None:
        with Registry(registry.host) as reg:
            entry = publish.push_image(docker_client, reg, "race", image, amd64)
            publish.write_index(reg, "race", [entry], [tag])
            got[tag] = entry.digest

    threads = [threading.Thread(target=run, args=(f"{images}:linux-amd64", "first")),
               threading.Thread(target=run, args=("harness-test/pub-other:linux-amd64",
                                                  "second"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got["first"] != got["second"]
    with Registry(registry.host) as reg:
        for tag in ("first", "second"):
            assert [m["digest"] for m in index_of(reg, "race", tag)["manifests"]] == [got[tag]]


@pytest.fixture(scope="module")
def secured(docker_client: docker.DockerClient,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    auth = tmp_path_factory.mktemp("auth")
    hashed = bcrypt.hashpw(b"s3cret-pw", bcrypt.gensalt(rounds=5)).decode()
    (auth / "htpasswd").write_text(f"ci:{hashed}\n")
    with LocalRegistry(docker_client, htpasswd=auth / "htpasswd") as reg:
        yield reg


def docker_config(tmp_path: Path, host: str, user: str, password: str) -> dict[str, str]:
    """A DOCKER_CONFIG directory as `docker login` leaves it."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {host: {"auth": token}}}))
    return {"DOCKER_CONFIG": str(tmp_path)}


def test_htpasswd_registry_with_docker_stored_credentials(secured: LocalRegistry, images: str,
                                                          tmp_path: Path) -> None:
    env = docker_config(tmp_path, secured.host, "ci", "s3cret-pw")
    run = harness(*PUBLISH, f"--registry={secured.host}/private", "--tag=ok",
                  f"--image={images}", f"--report-dir={tmp_path}",
                  "--platform=linux/amd64", env=env)
    assert run.returncode == Exit.OK, run.stderr
    assert "s3cret-pw" not in run.stdout + run.stderr


def test_wrong_credentials_write_nothing(secured: LocalRegistry, images: str,
                                         tmp_path: Path) -> None:
    env = docker_config(tmp_path, secured.host, "ci", "wrong-pw")
    run = harness(*PUBLISH, f"--registry={secured.host}/private", "--tag=bad",
                  f"--image={images}", f"--report-dir={tmp_path}",
                  "--platform=linux/amd64", env=env)
    assert run.returncode == Exit.CANNOT_CHECK
    assert "refused the credentials" in run.stderr and "docker login" in run.stderr
    assert "wrong-pw" not in run.stdout + run.stderr
    with Registry(secured.host, credentials={"username": "ci", "password": "s3cret-pw"}) as reg:
        assert "bad" not in reg.tags("private")
    with pytest.raises(AuthError), \
            Registry(secured.host, credentials={"username": "ci", "password": "no"}) as reg:
        reg.tags("private")



def test_a_registry_stopped_mid_publish(docker_client: docker.DockerClient, images: str) -> None:
    with LocalRegistry(docker_client, port=free_port()) as reg_container:
        host = reg_container.host
        with Registry(host) as reg:
            amd64 = publish.push_image(docker_client, reg, "stop", f"{images}:linux-amd64",
                                       parse_platform("linux/amd64"))
            publish.write_index(reg, "stop", [amd64], ["stable"])
            before = reg.get_manifest("stop", "stable")[2]
            first = publish.push_image(docker_client, reg, "stop", f"{images}:linux-386",
                                       parse_platform("linux/386"))
            reg_container.pause_serving()
            with pytest.raises(RegistryError, match="cannot be reached"):
                second = publish.push_image(docker_client, reg, "stop", f"{images}:linux-arm64",
                                            parse_platform("linux/arm64"))
                publish.write_index(reg, "stop", [first, second], ["stable"])
        reg_container.resume_serving()
        assert reg_container.host == host
        with Registry(host) as reg:
            assert reg.get_manifest("stop", "stable")[2] == before  # untouched
            entries = [publish.push_image(docker_client, reg, "stop", f"{images}:{p.slug}", p)
                       for p in map(parse_platform, PLATFORMS)]
            publish.write_index(reg, "stop", entries, ["stable"])
            assert platforms_in(index_of(reg, "stop", "stable")) == sorted(PLATFORMS)


def test_check_a_published_tag_by_digest(registry: LocalRegistry, images: str,
                                         tmp_path: Path) -> None:
    harness(*PUBLISH, f"--registry={registry.host}/pub", "--tag=checked", f"--image={images}",
            f"--report-dir={tmp_path / 'pub'}", *platform_args(*PLATFORMS))
    run = run_harness(f"--ref={registry.host}/pub:checked", *platform_args(*PLATFORMS),
                      f"--report-dir={tmp_path}", "--require=", "-n", "2")
    assert run.returncode == Exit.OK, run.stdout + run.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert {p["platform"]: p["verdict"] for p in report["platforms"]} == {
        "linux/amd64": "pass", "linux/386": "quirk", "linux/arm64": "pass"}
    assert report["index"]["findings"] == []
    for p in report["platforms"]:
        assert p["image"]["digest"] == report["index"]["entries"][p["platform"]]
        assert p["image"]["digest"] != report["index"]["digest"]  # the manifest, not the index


def test_check_finds_an_index_that_lies(registry: LocalRegistry, images: str,
                                        docker_client: docker.DockerClient,
                                        tmp_path: Path) -> None:
    """An entry labelled linux/arm64 whose image is amd64, and linux/386 missing."""
    with Registry(registry.host) as reg:
        amd = publish.push_image(docker_client, reg, "lie", f"{images}:linux-amd64",
                                 parse_platform("linux/amd64"))
        lie = publish.Entry("linux/arm64", "lie", amd.digest, amd.size, amd.media_type)
        body = json.dumps({"schemaVersion": 2, "mediaType": publish.MANIFEST_LIST,
                           "manifests": [amd.descriptor(), lie.descriptor()]}).encode()
        reg.put_manifest("lie", "bad", body, publish.MANIFEST_LIST)
    run = run_harness(f"--ref={registry.host}/lie:bad", *platform_args(*PLATFORMS),
                      f"--report-dir={tmp_path}", "--require=", "-n", "2")
    report = json.loads((tmp_path / "report.json").read_text())
    messages = [f["message"] for f in report["index"]["findings"]]
    assert any("says linux/arm64 but its image config says linux/amd64" in m for m in messages)
    assert any("linux/386 is not in the index" in m for m in messages)
    assert run.returncode == 1 and report["verdict"] == "fail"
    arm = next(p for p in report["platforms"] if p["platform"] == "linux/arm64")
    assert arm["verdict"] == "fail"  # probed by digest: its config says amd64


def test_a_name_nothing_is_published_under_is_bad_input_not_a_retry(
        registry: LocalRegistry, images: str, tmp_path: Path) -> None:
    """The registry answers and holds nothing by that name: the command is wrong (a retry
    finds nothing either); it said 69, "publish it and merge again"."""
    harness(*PUBLISH, f"--registry={registry.host}/there", "--tag=v1", f"--image={images}",
            f"--report-dir={tmp_path / 'pub'}", *platform_args(*PLATFORMS))
    for ref in (f"{registry.host}/there:v2", f"{registry.host}/never-pushed:v1"):
        run = run_harness(f"--ref={ref}", *platform_args(*PLATFORMS),
                          f"--report-dir={tmp_path / 'r'}", "--require=")
        assert run.returncode == Exit.USAGE, run.stdout + run.stderr
        assert f"nothing is published under {ref}" in run.stdout + run.stderr
        assert not (tmp_path / "r" / "logs").exists()  # before any work


def test_an_unreachable_registry_cannot_be_checked(tmp_path: Path) -> None:
    run = run_harness(f"--ref=127.0.0.1:{free_port()}/gone:latest", "--platform=linux/amd64",
                      f"--report-dir={tmp_path}", "--require=")
    assert run.returncode == Exit.CANNOT_CHECK, run.stdout + run.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert "cannot be reached" in report["index"]["findings"][0]["message"]


def test_tiny_base_name_is_not_a_registry_reference() -> None:
    from harness.core.oci.reference import is_registry_ref

    assert not is_registry_ref(TINY) and is_registry_ref("127.0.0.1:5000/rust:latest")


def _from_run(tmp_path: Path, base: str, builder: str) -> tuple[subprocess.CompletedProcess[str],
                                                                  dict[str, Any]]:
    """A run of a Dockerfile whose FROM names ``base`` directly (no ARG BASE_IMAGE)."""
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base}\nRUN true\n")
    run = run_harness("--platform=linux/amd64", f"--dockerfile={context / 'Dockerfile'}",
                      f"--report-dir={tmp_path / 'r'}", "--image=harness-test/from",
                      f"--builder={builder}", "--require=")
    data: dict[str, Any] = json.loads((tmp_path / "r" / "report.json").read_text())
    [finding] = data["platforms"][0]["findings"]
    return run, finding


@pytest.mark.parametrize("builder", ["buildx", "classic"])
def test_a_base_the_registry_does_not_have_is_the_image_s_fault(
        registry: LocalRegistry, tmp_path: Path, builder: str) -> None:
    run, finding = _from_run(tmp_path, f"{registry.host}/nothing-here:1", builder)
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-3000:]
    assert finding["kind"] == "build" and "does not exist" in finding["message"], finding


@pytest.mark.parametrize("builder", ["buildx", "classic"])
def test_a_base_whose_registry_cannot_be_reached_is_the_machine_s(tmp_path: Path,
                                                                  builder: str) -> None:
    run, finding = _from_run(tmp_path, f"127.0.0.1:{free_port()}/debian:bookworm", builder)
    assert run.returncode == Exit.CANNOT_CHECK, run.stdout[-3000:]
    assert finding["kind"] == "error" and "cannot be reached" in finding["message"], finding
    assert "ARG BASE_IMAGE" in finding["fix"]


@pytest.mark.parametrize("builder", ["buildx", "classic"])
def test_a_base_the_registry_refuses_is_the_machine_s(secured: LocalRegistry, tmp_path: Path,
                                                      builder: str) -> None:
    run, finding = _from_run(tmp_path, f"{secured.host}/private:1", builder)
    assert run.returncode == Exit.CANNOT_CHECK, run.stdout[-3000:]
    assert finding["kind"] == "error" and "refused" in finding["message"], finding
    assert "docker login" in finding["fix"]


def test_nox_registry_is_removed_on_sigterm_and_refuses_a_busy_port(
        docker_client: docker.DockerClient) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s",
                             "registry", "--", f"--port={port}"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "registry at" in line:
            break
    busy = harness("registry", f"--port={port}")
    assert busy.returncode == 4 and f"port {port} on 127.0.0.1 is in use" in busy.stderr
    proc.send_signal(signal.SIGTERM)  # nox alone, as a CI cancel
    proc.communicate(timeout=120)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the registry is still serving"
    assert not [c for c in docker_client.containers.list()
                if str(port) in str(c.attrs["NetworkSettings"]["Ports"])]


def test_the_ci_matrix_comes_from_the_bases_index(registry: LocalRegistry, images: str,
                                                  tmp_path: Path) -> None:
    """What the seed's author scripted against Docker Hub: the base's platforms, attestation
    entries dropped, platforms the table does not know named and left out."""
    pushed = harness(*PUBLISH, *platform_args("linux/arm64", "linux/amd64"),
                     f"--image={images}", f"--registry={registry.host}/base",
                     "--tag=plain", f"--report-dir={tmp_path}")
    assert pushed.returncode == Exit.OK, pushed.stderr
    with Registry(registry.host) as reg:
        index = index_of(reg, "base", "plain")
        amd64 = next(m for m in index["manifests"]
                     if m["platform"]["architecture"] == "amd64")
        index["manifests"] += [_push_attestation(reg, "base"),
                               {**amd64, "platform": {"os": "linux",
                                                      "architecture": "mips64le"}}]
        body = json.dumps(index).encode()
        reg.put_manifest("base", "bookworm", body, index["mediaType"])
    run = harness("matrix", f"--platforms-from-base={registry.host}/base:bookworm")
    assert run.returncode == Exit.OK, run.stderr
    # in the index's order
    assert [job["platform"] for job in json.loads(run.stdout)["include"]] == [
        f"{m['platform']['os']}/{m['platform']['architecture']}"
        for m in index["manifests"][:2]] == ["linux/amd64", "linux/arm64"]
    assert "offers linux/mips64le, which the platform table does not know" in run.stderr
    configured = harness("matrix", "--platform=linux/386,linux/arm/v7")
    assert json.loads(configured.stdout)["include"][1] == {
        "platform": "linux/arm/v7", "slug": "linux-arm-v7", "runner": "ubuntu-24.04"}
    single = harness("matrix", f"--platforms-from-base={registry.host}/base@"
                     f"{amd64['digest']}")
    assert single.returncode == Exit.USAGE and "not an index" in single.stderr


def test_a_build_of_another_dockerfile_publishes_the_images_its_report_names(
        registry: LocalRegistry, docker_client: docker.DockerClient,
        tiny_base: Callable[[str], str], tmp_path: Path) -> None:
    """`build -- --dockerfile X` then `publish -- --report-dir … --registry …` exited 4
    ("report.json is not of the linux/amd64 image harness/rust:linux-amd64"): publish made
    the images' names again from the defaults. It takes the report's, by image ID."""
    names = ("linux/amd64", "linux/arm64")
    for name in names:
        tiny_base(name)
    built = run_harness(*platform_args(*names), f"--dockerfile={TINY_DOCKERFILE}",
                        f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path}",
                        "--require=", "-n", "2")
    assert built.returncode == Exit.OK, built.stdout[-3000:]
    entries = json.loads((tmp_path / "report.json").read_text())["platforms"]
    try:
        ids = {e["platform"]: e["image"]["id"] for e in entries}
        assert all(e["image"]["tag"].startswith("harness/image:") for e in entries)
        run = harness("publish", f"--registry={registry.host}/other", "--tag=v1",
                      f"--report-dir={tmp_path}")
        assert run.returncode == Exit.OK, run.stdout + run.stderr
        with Registry(registry.host) as reg:
            pushed = {e.platform: json.loads(reg.get_manifest("other", e.digest)[1])
                      for e in publish.platform_entries(reg, "other", "v1")}
        assert {p: m["config"]["digest"] for p, m in pushed.items()} == ids
    finally:
        for e in entries:  # the default tags this test's build made
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(e["image"]["tag"])


def test_a_report_naming_an_image_the_engine_lacks_or_of_another_platform_pushes_nothing(
        registry: LocalRegistry, images: str, docker_client: docker.DockerClient,
        tmp_path: Path) -> None:
    arm64 = docker_client.images.get(f"{images}:linux-arm64").id
    for image_id, says in (("sha256:" + "0" * 64, "is not on the engine"),
                           (arm64, "is of another platform")):
        amd = result("linux/amd64", "pass")
        amd.image = ImageInfo(image_id, f"{images}:linux-amd64")
        (tmp_path / "report.json").write_text(json.dumps(build_report([amd], HOST, "warn",
                                                                      run=(0.0, 1.0)).to_json()))
        run = harness(*PUBLISH, f"--registry={registry.host}/lacks", "--tag=v1",
                      f"--report-dir={tmp_path}")
        assert run.returncode == Exit.USAGE, run.stdout + run.stderr
        assert f"the linux/amd64 image {image_id[:19]} that {tmp_path / 'report.json'} names " \
               f"{says}" in run.stderr
    with Registry(registry.host) as reg:
        assert reg.tags("lacks") == []
