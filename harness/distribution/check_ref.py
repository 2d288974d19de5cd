"""Check an image the harness did not build: a multi-arch tag in a registry, or a local image.

Each platform's manifest digest is resolved (never the index digest), the image is pulled by
that digest and probed like a built one. The index itself is checked too: exactly the
expected platforms, no platform twice, each entry's config agreeing with its platform entry,
and every blob it references present. Each platform's verification statement, where the
publisher attested one, is read to be compared with what the check sees
(harness.core.judging.verdicts.attested).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.core import jsondoc
from harness.core.failures.errors import UsageError
from harness.core.jsondoc import JSON
from harness.core.oci.reference import Reference, parse_reference
from harness.core.outcomes import Kind
from harness.core.platforms.table import Platform, find_in
from harness.core.reporting import attest
from harness.core.reporting.report import IndexReport
from harness.core.results.finding import Finding
from harness.distribution.publish import index_platforms
from harness.distribution.registry import INDEXES, Registry


@dataclass
class IndexCheck:
    """What a registry reference resolved to, and what is wrong with the index."""

    ref: str
    digest: str | None = None
    media_type: str | None = None
    entries: dict[str, str] = field(default_factory=dict)  # platform -> manifest digest
    findings: list[Finding] = field(default_factory=list)
    # platform -> its verification statement's predicate, where the publisher attested one
    attested: dict[str, JSON] = field(default_factory=dict)

    def to_report(self) -> IndexReport:
        """report.json's ``index``: of each attested statement, its verdict and harness."""
        return IndexReport(self.ref, self.digest, self.media_type, dict(self.entries),
                           tuple(self.findings),
                           {p: {"verdict": a.get("verdict"),
                                "harness": (a.get("harness") or {}).get("version")}
                            for p, a in self.attested.items()})

    def to_dict(self) -> JSON:
        return self.to_report().to_json()

    @classmethod
    def from_dict(cls, data: JSON) -> IndexCheck:
        return cls(data["ref"], data.get("digest"), data.get("media_type"),
                   dict(data.get("entries", {})),
                   [Finding(**f) for f in data.get("findings", [])],
                   dict(data.get("attested", {})))


def resolve(ref: str, expected: list[Platform], *, insecure: bool = False) -> IndexCheck:
    parsed = parse_reference(ref)
    with Registry(parsed.host, insecure=insecure) as registry:
        return check_index(registry, parsed, expected)


def check_index(registry: Registry, ref: Reference, expected: list[Platform]) -> IndexCheck:
    if not registry.has_manifest(ref.repository, ref.reference):
        # The registry answered, and holds nothing by that name: the command is wrong, not
        # the runner (a retry would find nothing either).
        raise UsageError(f"nothing is published under {ref}",
                         "check the repository and tag, or publish first "
                         "(multiarch-harness publish)")
    media, body, digest = registry.get_manifest(ref.repository, ref.reference)
    result = IndexCheck(str(ref), digest, media)
    doc = registry.document(body, f"GET /v2/{ref.repository}/manifests/{ref.reference}")
    if media not in INDEXES:
        # A single-platform manifest: its platform is its config's.
        config = registry.get_config(ref.repository, doc["config"]["digest"])
        p = find_in(config)
        if p:
            result.entries[p.name] = digest
        _check_blobs(registry, ref, p.name if p else "?", doc, result)
        return result
    for m, p in index_platforms(doc):
        plat = m.get("platform") or {}
        name = p.name if p else "/".join(str(plat.get(k)) for k in ("os", "architecture"))
        if name in result.entries:
            result.findings.append(Finding(
                "index", Kind.MISMATCH, f"{name} appears twice in the index",
                "write the index again with one entry per platform"))
            continue
        result.entries[name] = m["digest"]
        _, mbody, _ = registry.get_manifest(ref.repository, m["digest"])
        manifest = registry.document(mbody, f"GET /v2/{ref.repository}/manifests/{m['digest']}")
        config = registry.get_config(ref.repository, manifest["config"]["digest"])
        if find_in(config) != p:
            result.findings.append(Finding(
                "index", Kind.MISMATCH,
                f"the index entry says {name} but its image config says "
                f"{config.get('os')}/{config.get('architecture')}",
                "merge again: every entry's platform must be read from its config"))
        _check_blobs(registry, ref, name, manifest, result)
    _read_statements(registry, ref, doc, result)
    names = {p.name for p in expected}
    for missing in sorted(names - set(result.entries)):
        result.findings.append(Finding("index", Kind.MISMATCH, f"{missing} is not in the index",
                                       "publish that platform and merge again"))
    for extra in sorted(set(result.entries) - names):
        result.findings.append(Finding("index", Kind.MISMATCH,
                                       f"{extra} is in the index but was not expected",
                                       "check --platform, or drop it from the index"))
    return result


def _check_blobs(registry: Registry, ref: Reference, name: str, manifest: JSON,
                 result: IndexCheck) -> None:
    for blob in [manifest["config"], *manifest.get("layers", [])]:
        if not registry.has_blob(ref.repository, blob["digest"]):
            result.findings.append(Finding(
                "index", Kind.MISMATCH, f"{name}: blob {blob['digest']} is missing",
                "push the image again"))


STATEMENT_LIMIT = 1 << 20  # bytes: the harness writes a few kilobytes; more is not ours


def _read_statements(registry: Registry, ref: Reference, index: JSON,
                     result: IndexCheck) -> None:
    """Each platform's verification statement, from its attestation manifest. A statement
    whose subject is another manifest than the one it is attached to is a finding."""
    by_digest = {digest: name for name, digest in result.entries.items()}
    for entry in index.get("manifests", []):
        if not attest.is_attestation(entry):
            continue
        platform = by_digest.get(str((entry.get("annotations") or {})
                                     .get(attest.REFERENCE_DIGEST)))
        if platform is None:
            continue
        _, body, _ = registry.get_manifest(ref.repository, entry["digest"])
        attached = registry.document(body, f"GET /v2/{ref.repository}/manifests/"
                                     f"{entry['digest']}")
        layers = [la for la in attached.get("layers", [])
                  if (la.get("annotations") or {}).get(attest.PREDICATE_TYPE)
                  == attest.VERIFICATION]
        if not layers:
            continue  # attested by another tool (BuildKit's SBOM and provenance only)
        if int(layers[0].get("size") or 0) > STATEMENT_LIMIT:
            result.findings.append(Finding(
                "index", Kind.MISMATCH, f"{platform}: its verification statement is "
                f"{layers[0].get('size')} bytes, more than the harness ever writes",
                "publish again with the harness"))
            continue
        try:
            statement = jsondoc.parse(registry.get_blob(ref.repository, layers[0]["digest"]),
                                      max_bytes=STATEMENT_LIMIT)
            subjects = {s["digest"]["sha256"] for s in statement["subject"]}
            predicate = dict(statement["predicate"])
        except (ValueError, KeyError, TypeError):
            result.findings.append(Finding(
                "index", Kind.MISMATCH, f"{platform}: its verification statement is not an "
                "in-toto statement", "publish again with the harness"))
            continue
        if result.entries[platform].removeprefix("sha256:") not in subjects:
            result.findings.append(Finding(
                "index", Kind.MISMATCH, f"{platform}: its verification statement speaks of "
                "another manifest than the one it is attached to",
                "publish again: the statement must be made for the manifest it attests"))
            continue
        result.attested[platform] = predicate
