"""Attestations of a published platform image, in the format Docker's tools read.

BuildKit stores attestations in the image index, beside the platform manifests: one
*attestation manifest* per platform (an OCI image manifest, its index entry of platform
``unknown/unknown`` with the annotations ``vnd.docker.reference.type: attestation-manifest``
and ``vnd.docker.reference.digest: <the platform manifest's digest>``), whose layers are
in-toto statements (``application/vnd.in-toto+json``), each annotated with
``in-toto.io/predicate-type``. ``docker buildx imagetools inspect --format '{{json .SBOM}}'``
reads the layer of predicate type ``https://spdx.dev/Document`` and ``.Provenance`` the one of
``https://slsa.dev/provenance/…`` (buildx's util/imagetools/loader.go; BuildKit's
docs/attestations/attestation-storage.md).

This module makes the three statements the harness attests, from what a run found (a
platform's entry of report.json) and what it knows of the build (:class:`BuildFacts`):

- an SPDX 2.3 SBOM: the packages of the image's package database, with versions and
  architecture (as purls), and the ELF files no package owns (from the audit);
- SLSA provenance v0.2: the Dockerfile's digest, the build arguments (never a secret: the
  harness passes none), the base images, the builder and engine, the git repository and
  commit;
- the harness's own verification (:data:`VERIFICATION`): the platform's verdict, each
  source's answer, the findings and the harness version (what a check of the published tag
  sees is judged against it in harness.core.judging.verdicts.attested).

Pure: the bytes are made here, pushed by harness.distribution.attestations.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.core.answers.details import AuditDetail, PackagesDetail
from harness.core.jsondoc import JSON
from harness.core.results.platform_result import PlatformResult
from harness.core.sinks import bound

STATEMENT = "https://in-toto.io/Statement/v0.1"
SPDX = "https://spdx.dev/Document"
SLSA = "https://slsa.dev/provenance/v0.2"
# The harness's own predicate (documented in docs/guide/publishing.md): a URI of a reserved
# domain, since the project has none of its own to promise that it will resolve.
VERIFICATION = "https://multiarch-harness.invalid/verification/v1"
BUILD_TYPE = "https://multiarch-harness.invalid/build/v1"

IN_TOTO = "application/vnd.in-toto+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
PREDICATE_TYPE = "in-toto.io/predicate-type"
REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"
ATTESTATION_MANIFEST = "attestation-manifest"

# dpkg's architecture names as Debian's purls spell them (they are the same words).
_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")
ANSWER_LIMIT = 2000  # characters of a source's answer kept in the verification statement


@dataclass(frozen=True)
class BuildFacts:
    """What the harness knows of how an image was built, for its provenance."""

    dockerfile: str  # its path, relative to the project
    dockerfile_sha256: str
    build_args: Mapping[str, str] = field(default_factory=dict)
    bases: Mapping[str, str] = field(default_factory=dict)  # image name -> its digest or ID
    builder: str = ""  # buildx, classic
    engine_version: str = ""
    buildx_version: str = ""
    harness_version: str = ""
    repository: str = ""  # the git remote's URL, credentials removed
    revision: str = ""  # the git commit
    started: str = ""  # RFC 3339
    finished: str = ""


@dataclass(frozen=True)
class Blob:
    """Bytes to push, with their digest and media type."""

    data: bytes
    media_type: str
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def descriptor(self) -> JSON:
        found: JSON = {"mediaType": self.media_type, "digest": self.digest,
                                 "size": len(self.data)}
        if self.annotations:
            found["annotations"] = dict(self.annotations)
        return found


def _json(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def subject(name: str, manifest_digest: str, platform: str) -> list[JSON]:
    """The in-toto subject: the platform's manifest, by digest."""
    m = _DIGEST.fullmatch(manifest_digest)
    if not m:
        raise ValueError(f"not a sha256 digest: {manifest_digest!r}")
    quoted = urllib.parse.quote(platform, safe="")
    return [{"name": f"pkg:docker/{name}?platform={quoted}", "digest": {"sha256": m[1]}}]


def statement(predicate_type: str, subjects: list[JSON],
              predicate: JSON) -> Blob:
    """One in-toto statement, as a layer of the attestation manifest."""
    body = {"_type": STATEMENT, "predicateType": predicate_type, "subject": subjects,
            "predicate": predicate}
    return Blob(_json(body), IN_TOTO, {PREDICATE_TYPE: predicate_type})


def _spdx_id(kind: str, *parts: str) -> str:
    """An SPDX identifier: letters, digits, '.' and '-' only, unique by a digest of its parts."""
    tail = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    return f"SPDXRef-{kind}-{tail}"


def deb_purl(name: str, version: str, arch: str | None, distro: str | None) -> str:
    """Debian's purl: ``pkg:deb/debian/NAME@VERSION?arch=ARCH`` (the version's ``+`` and
    epoch ``:`` percent-encoded, as the purl spec asks)."""
    purl = f"pkg:deb/debian/{urllib.parse.quote(name, safe='')}@" \
           f"{urllib.parse.quote(version, safe='')}"
    qualifiers = [f"arch={urllib.parse.quote(arch, safe='')}"] if arch else []
    if distro:
        qualifiers.append(f"distro={urllib.parse.quote(distro, safe='')}")
    return purl + ("?" + "&".join(qualifiers) if qualifiers else "")


def _detail(entry: PlatformResult, source: str) -> Mapping[str, Any]:
    seen = entry.observed().get(source)
    return seen.detail if seen is not None else {}  # read by its record (answers.details)


def sbom(entry: PlatformResult, name: str, facts: BuildFacts) -> JSON:
    """An SPDX 2.3 document of a platform's image: its packages, and the ELF files that no
    package owns (each a package of its own, with the path as its name: SPDX files need
    checksums of their whole content, which the audit does not read)."""
    found = PackagesDetail.of(_detail(entry, "packages"))
    manager = found.manager
    versions: Mapping[str, str] = found.packages or {}
    arches: Mapping[str, str] = found.architectures or {}
    distro = found.distro
    image_id = _spdx_id("Image", name, entry.platform)
    packages: list[JSON] = [{
        "name": name, "SPDXID": image_id, "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False, "primaryPackagePurpose": "CONTAINER",
        "comment": f"the {entry.platform} image",
    }]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                      "relatedSpdxElement": image_id}]
    for pkg in sorted(versions):
        version = str(versions[pkg])
        spdx_id = _spdx_id("Package", manager, pkg, version)
        item: JSON = {"name": pkg, "SPDXID": spdx_id, "versionInfo": version,
                                "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
                                "sourceInfo": f"the image's {manager} database"}
        if manager == "dpkg":
            item["externalRefs"] = [{"referenceCategory": "PACKAGE-MANAGER",
                                     "referenceType": "purl",
                                     "referenceLocator": deb_purl(pkg, version,
                                                                  arches.get(pkg), distro)}]
        packages.append(item)
        relationships.append({"spdxElementId": image_id, "relationshipType": "CONTAINS",
                              "relatedSpdxElement": spdx_id})
    audit = AuditDetail.of(_detail(entry, "elf-audit"))
    for path in sorted(audit.unowned or ()):
        spdx_id = _spdx_id("File", path)
        packages.append({"name": path, "SPDXID": spdx_id,
                         "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
                         "primaryPackagePurpose": "FILE",
                         "comment": "an ELF file that no package of the image owns"})
        relationships.append({"spdxElementId": image_id, "relationshipType": "CONTAINS",
                              "relatedSpdxElement": spdx_id})
    namespace = hashlib.sha256(_json([name, entry.platform,
                                      entry.image.to_dict() if entry.image else {}]))
    return {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{name} {entry.platform}",
        "documentNamespace": f"https://multiarch-harness.invalid/spdx/{namespace.hexdigest()}",
        "creationInfo": {"created": facts.finished or facts.started or "1970-01-01T00:00:00Z",
                         "creators": [f"Tool: multiarch-harness-{facts.harness_version}"]},
        "packages": packages, "relationships": relationships,
        "comment": f"{len(versions)} packages ({manager or 'no package database'}), "
                   + _unowned_said(audit),
    }


def _unowned_said(audit: AuditDetail) -> str:
    """How many ELF files no package owns, or that it is not known and why (an audit
    budget spent: no count is claimed that nothing was checked for)."""
    if audit.unowned_error and audit.unowned is None:
        return f"ELF files no package owns: not known ({bound(audit.unowned_error, 300)})"
    listed = len(audit.unowned or ())
    return f"{listed} ELF files no package owns" + (
        f" (of {audit.unowned_count})" if audit.unowned_count > listed else "")


def provenance(entry: PlatformResult, facts: BuildFacts) -> JSON:
    """SLSA provenance v0.2 of a platform's build (what BuildKit's ``mode=min`` records, in
    the same places)."""
    materials = [{"uri": f"pkg:docker/{image}", "digest": _digest_map(ref)}
                 for image, ref in sorted(facts.bases.items())]
    if facts.repository and facts.revision:
        materials.append({"uri": facts.repository, "digest": {"sha1": facts.revision}})
    return {
        "builder": {"id": f"multiarch-harness {facts.harness_version} ({facts.builder} on "
                          f"Docker {facts.engine_version})"},
        "buildType": BUILD_TYPE,
        "materials": materials,
        "invocation": {
            "configSource": {**({"uri": facts.repository} if facts.repository else {}),
                             "entryPoint": facts.dockerfile,
                             "digest": {"sha256": facts.dockerfile_sha256}},
            "parameters": {"frontend": "dockerfile.v0",
                           "args": {f"build-arg:{k}": v
                                    for k, v in sorted(facts.build_args.items())}},
            "environment": {"platform": entry.platform,
                            "builder": facts.builder, "engine": facts.engine_version,
                            "buildx": facts.buildx_version},
        },
        "metadata": {
            **({"buildStartedOn": facts.started} if facts.started else {}),
            **({"buildFinishedOn": facts.finished} if facts.finished else {}),
            "completeness": {"parameters": True, "environment": True, "materials": False},
            "reproducible": False,
            "https://mobyproject.org/buildkit@v1#metadata": {
                "vcs": {"source": facts.repository, "revision": facts.revision}},
        },
    }


def _digest_map(ref: str) -> dict[str, str]:
    m = re.search(r"sha256:([0-9a-f]{64})", ref)
    return {"sha256": m[1]} if m else {}


def verification(entry: PlatformResult, facts: BuildFacts) -> JSON:
    """The harness's own statement: the verdict, each source's answer (bounded) and the
    findings, as report.json has them."""
    answers = {}
    for source, seen in sorted(entry.observed().items()):
        raw = seen.raw
        answers[source] = {"value": seen.value, "error": seen.error,
                           "raw": raw[:ANSWER_LIMIT] if raw is not None else raw}
    return {"harness": {"version": facts.harness_version},
            "platform": entry.platform, "verdict": str(entry.verdict),
            "findings": [f.to_dict() for f in entry.findings], "answers": answers,
            "image": entry.image.id if entry.image else None,
            "checked": facts.finished or None}


def manifest(layers: list[Blob]) -> tuple[Blob, Blob]:
    """The attestation manifest of ``layers`` and its config (an empty image config, as
    BuildKit writes: only there for registries that want one)."""
    config = Blob(_json({"architecture": "unknown", "os": "unknown", "config": {},
                         "rootfs": {"type": "layers",
                                    "diff_ids": [b.digest for b in layers]}}), OCI_CONFIG)
    body = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config.descriptor(),
            "layers": [b.descriptor() for b in layers]}
    return Blob(_json(body), OCI_MANIFEST), config


def index_entry(attestation: Blob, platform_manifest: str) -> JSON:
    """The index's entry for an attestation manifest of the platform manifest
    ``platform_manifest``."""
    return {**attestation.descriptor(),
            "annotations": {REFERENCE_DIGEST: platform_manifest,
                            REFERENCE_TYPE: ATTESTATION_MANIFEST},
            "platform": {"architecture": "unknown", "os": "unknown"}}


def is_attestation(descriptor: Mapping[str, Any]) -> bool:
    """Whether an index entry is an attestation manifest (BuildKit's or ours)."""
    return (descriptor.get("annotations") or {}).get(REFERENCE_TYPE) == ATTESTATION_MANIFEST


def statements(entry: PlatformResult, name: str, manifest_digest: str, facts: BuildFacts,
               ) -> list[Blob]:
    """The three statements of a platform's image."""
    subjects = subject(name, manifest_digest, entry.platform)
    return [statement(SPDX, subjects, sbom(entry, name, facts)),
            statement(SLSA, subjects, provenance(entry, facts)),
            statement(VERIFICATION, subjects, verification(entry, facts))]
