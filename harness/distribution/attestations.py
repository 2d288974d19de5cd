"""Attestation manifests pushed beside a platform's manifest (the bytes are made by
harness.core.reporting.attest): each statement and the empty config as blobs, then the manifest by
digest. The index that names the platform names its attestation manifest too
(harness.distribution.publish.write_index)."""

from __future__ import annotations

from harness.core.jsondoc import JSON
from harness.core.reporting import attest
from harness.distribution.registry import OCI_MANIFEST, Registry


def push(registry: Registry, repository: str, statements: list[attest.Blob],
         platform_manifest: str) -> JSON:
    """Push ``statements`` as the attestation manifest of ``platform_manifest``; the index
    entry that names it."""
    manifest, config = attest.manifest(statements)
    for blob in (*statements, config):
        registry.push_blob(repository, blob.digest, blob.data, len(blob.data))
    registry.put_manifest(repository, manifest.digest, manifest.data, OCI_MANIFEST)
    return attest.index_entry(manifest, platform_manifest)
