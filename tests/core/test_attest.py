"""Attestations in BuildKit's format: what docker buildx imagetools reads, made from a run."""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.judging import verdicts
from harness.core.reporting import attest
from harness.core.results.platform_result import PlatformResult

MANIFEST = "sha256:" + "ab" * 32
FACTS = attest.BuildFacts(
    dockerfile="dockerfiles/Dockerfile.rust", dockerfile_sha256="cd" * 32,
    build_args={"BASE_IMAGE": "harness.invalid/base/debian:bookworm-slim-linux-arm64"},
    bases={"harness.invalid/base/debian:bookworm-slim-linux-arm64": "sha256:" + "ef" * 32},
    builder="buildx", engine_version="20.10.24", buildx_version="0.13.1",
    harness_version="0.9.0", repository="https://example.org/team/app.git",
    revision="0123456789abcdef0123456789abcdef01234567",
    started="2026-11-30T08:00:00Z", finished="2026-11-30T08:04:00Z")


def entry(**extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "platform": "linux/arm64", "verdict": "pass", "findings": [],
        "image": {"id": "sha256:" + "12" * 32, "tag": "harness/rust:linux-arm64"},
        "observed": {
            "packages": {"raw": "3 packages (dpkg)", "detail": {
                "manager": "dpkg", "distro": "debian-12",
                "packages": {"bash": "5.2.15-2+b13", "bsdutils": "1:2.38.1-5+deb12u3",
                             "rustc": "1.63.0+dfsg1-2"},
                "architectures": {"bash": "arm64", "bsdutils": "arm64", "rustc": "arm64"}}},
            "uname": {"raw": "aarch64", "value": "aarch64", "error": None},
            "elf-audit": {"raw": "902 ELF files", "detail": {
                "files": 902, "unowned": ["/usr/local/bin/app"], "unowned_count": 1}},
        }}
    found.update(extra)
    return found


def typed(data: dict[str, Any]) -> PlatformResult:
    """An entry as report.json has it, read back as the typed report does."""
    return PlatformResult.from_dict(data)


def predicate(blob: attest.Blob) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(blob.data)
    assert doc["_type"] == attest.STATEMENT
    assert blob.annotations[attest.PREDICATE_TYPE] == doc["predicateType"]
    assert doc["subject"] == [{"name": "pkg:docker/registry.example/app?platform=linux%2Farm64",
                               "digest": {"sha256": "ab" * 32}}]
    result: dict[str, Any] = doc["predicate"]
    return result


def test_three_statements_of_the_platform_manifest_each_annotated_with_its_type() -> None:
    blobs = attest.statements(typed(entry()), "registry.example/app", MANIFEST, FACTS)
    assert [b.annotations[attest.PREDICATE_TYPE] for b in blobs] == [
        attest.SPDX, attest.SLSA, attest.VERIFICATION]
    assert all(b.media_type == "application/vnd.in-toto+json" for b in blobs)
    for blob in blobs:
        predicate(blob)


def test_the_sbom_lists_each_package_with_its_purl_and_the_files_no_package_owns() -> None:
    spdx = predicate(attest.statements(typed(entry()), "registry.example/app", MANIFEST, FACTS)[0])
    assert spdx["spdxVersion"] == "SPDX-2.3" and spdx["SPDXID"] == "SPDXRef-DOCUMENT"
    by_name = {p["name"]: p for p in spdx["packages"]}
    assert by_name["bsdutils"]["versionInfo"] == "1:2.38.1-5+deb12u3"
    assert by_name["bsdutils"]["externalRefs"][0]["referenceLocator"] == \
        "pkg:deb/debian/bsdutils@1%3A2.38.1-5%2Bdeb12u3?arch=arm64&distro=debian-12"
    assert by_name["/usr/local/bin/app"]["primaryPackagePurpose"] == "FILE"
    ids = [p["SPDXID"] for p in spdx["packages"]]
    assert len(ids) == len(set(ids)) == 5  # the image, three packages, one file
    described = [r for r in spdx["relationships"] if r["relationshipType"] == "DESCRIBES"]
    contained = {r["relatedSpdxElement"] for r in spdx["relationships"]
                 if r["relationshipType"] == "CONTAINS"}
    assert described[0]["spdxElementId"] == "SPDXRef-DOCUMENT"
    assert contained == set(ids) - {described[0]["relatedSpdxElement"]}


def test_an_image_without_a_package_database_has_an_sbom_of_its_files_only() -> None:
    bare = entry()
    bare["observed"]["packages"] = {"raw": None, "detail": {}}
    spdx = predicate(attest.statements(typed(bare), "registry.example/app", MANIFEST, FACTS)[0])
    assert [p["name"] for p in spdx["packages"]][1:] == ["/usr/local/bin/app"]
    assert "0 packages (no package database)" in spdx["comment"]


def test_the_provenance_names_the_dockerfile_arguments_bases_builder_and_commit() -> None:
    slsa = predicate(attest.statements(typed(entry()), "registry.example/app", MANIFEST, FACTS)[1])
    assert slsa["invocation"]["configSource"] == {
        "uri": "https://example.org/team/app.git", "entryPoint": "dockerfiles/Dockerfile.rust",
        "digest": {"sha256": "cd" * 32}}
    assert slsa["invocation"]["parameters"]["args"] == {
        "build-arg:BASE_IMAGE": "harness.invalid/base/debian:bookworm-slim-linux-arm64"}
    assert {"uri": "pkg:docker/harness.invalid/base/debian:bookworm-slim-linux-arm64",
            "digest": {"sha256": "ef" * 32}} in slsa["materials"]
    assert {"uri": "https://example.org/team/app.git",
            "digest": {"sha1": "0123456789abcdef0123456789abcdef01234567"}} in slsa["materials"]
    assert "buildx on Docker 20.10.24" in slsa["builder"]["id"]
    assert slsa["metadata"]["buildFinishedOn"] == "2026-11-30T08:04:00Z"


def test_the_verification_carries_the_verdict_and_each_answer_bounded() -> None:
    loud = entry(verdict="quirk")
    loud["observed"]["uname"]["raw"] = "x" * 10_000
    seen = predicate(attest.statements(typed(loud), "registry.example/app", MANIFEST, FACTS)[2])
    assert seen["verdict"] == "quirk" and seen["platform"] == "linux/arm64"
    assert len(seen["answers"]["uname"]["raw"]) == attest.ANSWER_LIMIT
    assert seen["harness"] == {"version": "0.9.0"}


def test_the_attestation_manifest_and_its_index_entry_are_buildkits() -> None:
    blobs = attest.statements(typed(entry()), "registry.example/app", MANIFEST, FACTS)
    manifest, config = attest.manifest(blobs)
    body = json.loads(manifest.data)
    assert body["mediaType"] == attest.OCI_MANIFEST
    assert [layer["digest"] for layer in body["layers"]] == [b.digest for b in blobs]
    assert all(layer["annotations"][attest.PREDICATE_TYPE] for layer in body["layers"])
    assert body["config"]["digest"] == config.digest
    assert json.loads(config.data)["rootfs"]["diff_ids"] == [b.digest for b in blobs]
    index_entry = attest.index_entry(manifest, MANIFEST)
    assert index_entry["platform"] == {"architecture": "unknown", "os": "unknown"}
    assert index_entry["annotations"] == {"vnd.docker.reference.digest": MANIFEST,
                                          "vnd.docker.reference.type": "attestation-manifest"}
    assert attest.is_attestation(index_entry)
    assert not attest.is_attestation({"platform": {"os": "linux"}})


def test_a_subject_needs_a_sha256_digest() -> None:
    with pytest.raises(ValueError, match="not a sha256 digest"):
        attest.subject("app", "latest", "linux/amd64")


@given(name=st.text(min_size=1, max_size=40), version=st.text(min_size=1, max_size=40),
       arch=st.sampled_from(["amd64", "i386", "arm64", "armhf"]))
def test_a_purl_keeps_any_name_and_version_recoverable_and_the_sbom_stays_valid_json(
        name: str, version: str, arch: str) -> None:
    purl = attest.deb_purl(name, version, arch, None)
    m = re.fullmatch(r"pkg:deb/debian/([^@/?#]*)@([^?#]*)\?arch=(\w+)", purl)
    assert m, purl
    assert urllib.parse.unquote(m[1]) == name and urllib.parse.unquote(m[2]) == version
    odd = entry()
    odd["observed"]["packages"]["detail"]["packages"] = {name: version}
    odd["observed"]["packages"]["detail"]["architectures"] = {name: arch}
    spdx = json.loads(attest.statements(typed(odd), "app", MANIFEST, FACTS)[0].data)["predicate"]
    assert all(re.fullmatch(r"SPDXRef-[A-Za-z0-9.-]+", p["SPDXID"]) for p in spdx["packages"])
    assert {p["name"] for p in spdx["packages"]} >= {name}


def attested(**changes: Any) -> dict[str, Any]:
    """The verification predicate of entry(), as its publisher attested it."""
    return attest.verification(typed(entry(**changes)), FACTS)


def with_dpkg(value: str, uname: str = "aarch64") -> dict[str, Any]:
    found = entry()
    found["observed"]["dpkg"] = {"raw": value, "value": value, "error": None}
    found["observed"]["uname"] = {"raw": uname, "value": uname, "error": None}
    return found


def test_a_check_that_sees_what_was_attested_finds_nothing() -> None:
    """Known good: the same answers; uname -m differs (QEMU at publish, native here) and is
    the host's, not the image's."""
    then = attest.verification(typed(with_dpkg("arm64", uname="aarch64")), FACTS)
    assert verdicts.attested({"linux/arm64": then},
                          {"linux/arm64": typed(with_dpkg("arm64", uname="armv8l"))}) == []


def test_an_image_answer_that_changed_since_publishing_is_a_mismatch() -> None:
    then = attest.verification(typed(with_dpkg("amd64")), FACTS)
    [finding] = verdicts.attested({"linux/arm64": then}, {"linux/arm64": typed(with_dpkg("arm64"))})
    assert finding.kind == "mismatch" and finding.source == "attestation"
    assert finding.message == ("linux/arm64: dpkg answered 'amd64' to its publisher (harness "
                               "0.9.0) and 'arm64' here")


def test_a_platform_its_publisher_failed_fails_the_check_whatever_is_seen() -> None:
    # The predicate is the publisher's: its findings are read as data, whatever their shape.
    then = {**attested(verdict="fail"),
            "findings": [{"message": "uname -m says x86_64" + "!" * 500}]}
    [finding] = verdicts.attested({"linux/arm64": then}, {"linux/arm64": typed(entry())})
    assert "judged it fail: uname -m says x86_64" in finding.message
    assert len(finding.message) < 250  # a publisher's text is bounded


def test_answers_missing_on_either_side_or_failed_are_not_compared() -> None:
    then = attest.verification(typed(with_dpkg("amd64")), FACTS)
    errored = with_dpkg("arm64")
    errored["observed"]["dpkg"]["error"] = "timed out"
    assert verdicts.attested({"linux/arm64": then}, {"linux/arm64": typed(errored)}) == []
    assert verdicts.attested({"linux/arm64": then},
                             {"linux/amd64": typed(with_dpkg("arm64"))}) == []


def test_the_sbom_says_the_unowned_files_are_unknown_where_the_lists_budget_was_spent() -> None:
    """Past the budget of dpkg's file lists no unowned file is listed: the SBOM said "0 ELF
    files no package owns", a claim nothing was checked for."""
    spent = ("dpkg's file lists are more than the 64 MiB read of one image: 3 not read whole "
             "(/var/lib/dpkg/info/a.list)")
    cut = entry()
    cut["observed"]["elf-audit"]["detail"] = {"files": 902, "unowned_error": spent}
    spdx = predicate(attest.statements(typed(cut), "registry.example/app", MANIFEST, FACTS)[0])
    assert "0 ELF files" not in spdx["comment"]
    assert "no package owns: not known" in spdx["comment"] and spent in spdx["comment"]
    assert not any(p.get("primaryPackagePurpose") == "FILE" for p in spdx["packages"])
