"""Push each platform's image by digest, then write one multi-arch index under each tag.

Pushing every platform to one tag lets the last push win; pushing per-platform tags and
merging them with ``docker manifest`` trips over builders that push indexes with attestation
entries. What works (peers.md): every platform pushed by digest, with no tag, and one index
written at the end, naming each platform's manifest with the platform read from its config.

A tag is written once, after every manifest it names is present in the repository, so a run
that fails part-way leaves the previous tag untouched. Layers are gzip-compressed
deterministically (mtime 0, fixed level and block size, ISA-L on every core) as the export
streams in, so an unchanged image has unchanged blob digests and a second publish uploads no
blob; with the manifest cached per image id, it does not even export the image again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import docker
from isal import igzip_threaded

from harness.core.buildspec.metadata import Annotated
from harness.core.failures.errors import UsageError
from harness.core.jsondoc import JSON
from harness.core.platforms.table import Platform, find_in, parse_platform
from harness.core.reporting import attest
from harness.core.reporting.report import Report
from harness.core.results.platform_result import ImageInfo
from harness.distribution.registry import (
    CONFIG_V1,
    INDEXES,
    LAYER_GZIP,
    MANIFEST_LIST,
    MANIFEST_V2,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Registry,
    RegistryError,
    digest_of,
)
from harness.machine import files
from harness.machine.streams import ChunkFile

ATTESTATION = ("unknown", "unknown")
GZIP_MAGIC = b"\x1f\x8b"
MANIFEST_CACHE = files.cache_dir("manifests")
DIGEST_FILE_BYTES = 1 << 20  # a digest file is a few hundred bytes (Entry.write)


@dataclass(frozen=True)
class Entry:
    """One platform's manifest in a repository: what an index entry and a digest file hold."""

    platform: str
    repository: str
    digest: str
    size: int
    media_type: str
    # The index entry of its attestation manifest (harness.core.reporting.attest), where it has one.
    attestation: JSON | None = None

    def descriptor(self) -> JSON:
        p = parse_platform(self.platform)
        plat: dict[str, str] = {"architecture": p.architecture, "os": p.os}
        if p.variant:
            plat["variant"] = p.variant
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size,
                "platform": plat}

    def write(self, directory: Path) -> Path:
        """The digest file a CI matrix job uploads for the merge job."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{parse_platform(self.platform).slug}.json"
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: Path) -> Entry:
        try:
            entry = cls(**files.read_json(path, DIGEST_FILE_BYTES))
        except (OSError, ValueError, TypeError) as exc:
            raise UsageError(f"{path} is not a digest file", "pass files written by publish") \
                from exc
        try:
            parse_platform(entry.platform)
        except ValueError as exc:
            raise UsageError(f"{path} names {entry.platform!r}, a platform the harness does "
                             "not know", "pass digest files written by publish") from exc
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", entry.digest):
            raise UsageError(f"{path} holds no sha256 digest", "pass files written by publish")
        if entry.attestation is not None and not (
                isinstance(entry.attestation, dict) and attest.is_attestation(entry.attestation)
                and re.fullmatch(r"sha256:[0-9a-f]{64}", str(entry.attestation.get("digest")))
                and (entry.attestation.get("annotations") or {}).get(attest.REFERENCE_DIGEST)
                == entry.digest):
            raise UsageError(f"{path} names an attestation that is not of {entry.digest}",
                             "pass digest files written by publish")
        return entry


# -- which images --------------------------------------------------------------------------


def reported_images(report: Report, wanted: list[Platform] | None,
                    where: Path) -> dict[Platform, str]:
    """The image each platform's entry of a build's report.json names, by its ID: what
    publish pushes. Never a tag made again from defaults: another Dockerfile, project or run
    may have built under it since, and a tag re-derived without ``--dockerfile`` named
    another image than the build's. ``wanted``: the platforms asked for (``--platform``);
    None: every platform the report names. Bad input where the report has no such build."""
    by_name = {e.platform: e for e in report.platforms}
    names = [p.name for p in wanted] if wanted else list(by_name)
    fix = "build first with the same --report-dir: nox -s build -- --platform {}"
    if not names:
        raise UsageError(f"{where} names no platform", fix.format("PLATFORM"))
    found: dict[Platform, str] = {}
    for name in names:
        entry = by_name.get(name)
        if entry is None:
            raise UsageError(f"{where} has no {name} image: that build did not make one",
                             fix.format(name))
        image = entry.image or ImageInfo()
        if image.ref is not None:
            raise UsageError(f"{where} is the report of a check of {image.ref}, not of a "
                             "build", "publish with the --report-dir of the build")
        if not image.id or not (entry.build and entry.build.ok):
            raise UsageError(f"{where}: {name} did not build, there is no image to publish",
                             fix.format(name))
        found[parse_platform(name)] = str(image.id)
    return found


# -- pushing one image --------------------------------------------------------------------


def _pack(src: IO[bytes], dst: Path, threads: int | None = None) -> Packed:
    """One layer as a gzip blob at ``dst``: compressed with ISA-L on every core in 1 MiB
    blocks (the same bytes whatever the core count: header mtime 0, fixed level and block
    size), or copied when the engine exported it compressed already."""
    head = src.read(1 << 20)
    if head.startswith(GZIP_MAGIC):
        with dst.open("wb") as out:
            out.write(head)
            shutil.copyfileobj(src, out, 1 << 20)
    else:
        cores = threads or os.cpu_count() or 1
        with igzip_threaded.open(dst, "wb", compresslevel=1, threads=cores) as gz:
            gz.write(head)
            shutil.copyfileobj(src, gz, 1 << 20)
    sha = hashlib.sha256()
    with dst.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
    return Packed("sha256:" + sha.hexdigest(), dst.stat().st_size, dst)


def push_image(client: docker.DockerClient, registry: Registry, repository: str, image: str,
               platform: Platform, annotations: dict[str, str] | None = None) -> Entry:
    """Push one local image by digest (no tag) and return its entry; with ``annotations``,
    its manifest is an OCI manifest carrying them.

    The manifest made for an image id is kept in a local cache; when the repository already
    holds every blob it names, it is written again without exporting or compressing anything.
    """
    image_id = str(client.images.get(image).id)
    cached = MANIFEST_CACHE / f"{image_id.removeprefix('sha256:')}.json"
    manifest = cached.read_bytes() if cached.is_file() else None
    if manifest is None or not _has_blobs(registry, repository, manifest):
        manifest = _push_blobs(client, registry, repository, image)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(manifest)
        os.replace(partial, cached)  # atomic: concurrent publishes never read half a file
    media = MANIFEST_V2
    if annotations:
        manifest, media = as_oci(manifest, annotations), OCI_MANIFEST
    digest = registry.put_manifest(repository, digest_of(manifest), manifest, media)
    return Entry(platform.name, repository, digest, len(manifest), media)


def as_oci(manifest: bytes, annotations: dict[str, str]) -> bytes:
    """A Docker image manifest as the OCI manifest of the same blobs, annotated (a Docker
    manifest has no annotations; the config and layers are the same bytes in both)."""
    doc = json.loads(manifest)
    doc["mediaType"] = OCI_MANIFEST
    doc["config"]["mediaType"] = OCI_CONFIG
    for layer in doc["layers"]:
        layer["mediaType"] = OCI_LAYER_GZIP
    doc["annotations"] = dict(sorted(annotations.items()))
    return json.dumps(doc, separators=(",", ":")).encode()


def _has_blobs(registry: Registry, repository: str, manifest: bytes) -> bool:
    doc = json.loads(manifest)
    return all(registry.has_blob(repository, blob["digest"])
               for blob in [doc["config"], *doc["layers"]])


def _push_blobs(client: docker.DockerClient, registry: Registry, repository: str,
                image: str) -> bytes:
    """Export the image, upload the blobs the repository lacks; the manifest's bytes."""
    with tempfile.TemporaryDirectory(prefix="harness-push-") as tmp:
        saved = Export(Path(tmp))
        saved.read(client.images.get(image).save(named=False))
        manifest = json.loads(saved.small[saved.resolve("manifest.json")])[0]
        config = saved.small[saved.resolve(manifest["Config"])]
        layers = []
        for name in manifest["Layers"]:
            blob = saved.packed(name)
            with blob.path.open("rb") as fh:
                registry.push_blob(repository, blob.digest, fh, blob.size)
            layers.append({"mediaType": LAYER_GZIP, "digest": blob.digest, "size": blob.size})
    config_digest = digest_of(config)
    registry.push_blob(repository, config_digest, config, len(config))
    return json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_V2,
        "config": {"mediaType": CONFIG_V1, "digest": config_digest, "size": len(config)},
        "layers": layers,
    }, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Packed:
    digest: str
    size: int
    path: Path


class Export:
    """``docker save``'s archive, read as it streams: members of SMALL bytes or more (layers)
    are compressed as they arrive, smaller ones (configs, manifests, small layers) are kept;
    nothing is written out uncompressed."""

    SMALL = 4 << 20

    def __init__(self, work: Path) -> None:
        self.work = work
        self.small: dict[str, bytes] = {}
        self._packed: dict[str, Packed] = {}
        self._links: dict[str, str] = {}

    def read(self, chunks: Iterable[bytes]) -> None:
        with tarfile.open(fileobj=ChunkFile(chunks), mode="r|") as tar:
            for n, member in enumerate(tar):
                if member.issym():  # a layer shared by two entries (../<id>/layer.tar)
                    self._links[member.name] = posixpath.normpath(
                        posixpath.join(posixpath.dirname(member.name), member.linkname))
                elif member.islnk():
                    self._links[member.name] = member.linkname
                elif member.isfile():
                    body = tar.extractfile(member)
                    assert body is not None
                    if member.size < self.SMALL:
                        self.small[member.name] = body.read()
                    else:
                        self._packed[member.name] = _pack(body, self.work / f"{n}.gz")

    def resolve(self, name: str) -> str:
        seen = set()
        while name in self._links and name not in seen:
            seen.add(name)
            name = self._links[name]
        return name

    def packed(self, name: str) -> Packed:
        name = self.resolve(name)
        if name not in self._packed:
            self._packed[name] = _pack(io.BytesIO(self.small[name]),
                                       self.work / f"small-{len(self._packed)}.gz")
        return self._packed[name]


# -- indexes ------------------------------------------------------------------------------


def write_index(registry: Registry, repository: str, entries: list[Entry],
                tags: Iterable[str], annotated: Annotated | None = None,
                before_tags: Callable[[str], None] | None = None) -> str:
    """Write one manifest list naming ``entries`` under every tag, with ``annotated``'s
    index and descriptor annotations; its digest. It is written by digest first, and
    ``before_tags`` (signing) is called with the digest before any tag names it."""
    seen: dict[str, Entry] = {}
    for e in entries:
        if e.platform in seen and seen[e.platform].digest != e.digest:
            raise UsageError(f"two different images for {e.platform}: "
                             f"{seen[e.platform].digest} and {e.digest}",
                             "merge one image per platform")
        seen[e.platform] = e
    for e in seen.values():
        for digest, what in ((e.digest, "manifest"),
                             *(((e.attestation["digest"], "attestation manifest"),)
                               if e.attestation else ())):
            if not registry.has_manifest(repository, digest):
                raise RegistryError(f"{e.platform}'s {what} {digest} is not in "
                                    f"{registry.host}/{repository}",
                                    "publish that platform first; the tag was not written")
    # An OCI index where any entry is an OCI manifest (an attestation manifest is one), a
    # Docker manifest list otherwise.
    annotated = annotated or Annotated()
    attestations = [seen[k].attestation for k in sorted(seen) if seen[k].attestation]
    media = OCI_INDEX if attestations or annotated.index or annotated.descriptor or any(
        e.media_type == OCI_MANIFEST for e in seen.values()) else MANIFEST_LIST
    descriptors = []
    for k in sorted(seen):
        descriptor = seen[k].descriptor()
        if annotated.of_descriptor(k):
            descriptor["annotations"] = annotated.of_descriptor(k)
        descriptors.append(descriptor)
    doc: JSON = {"schemaVersion": 2, "mediaType": media,
                           "manifests": descriptors + attestations}
    if annotated.index:
        doc["annotations"] = dict(sorted(annotated.index.items()))
    body = json.dumps(doc, separators=(",", ":")).encode()
    digest = digest_of(body)
    registry.put_manifest(repository, digest, body, media)
    if before_tags is not None:
        before_tags(digest)
    for tag in tags:
        registry.put_manifest(repository, tag, body, media)
    return digest


def index_platforms(index: JSON) -> Iterator[tuple[JSON, Platform | None]]:
    """Each entry of an index with the platform it names (None if the table does not know
    it), attestation entries (``unknown/unknown``) left out."""
    for m in index.get("manifests", []):
        plat = m.get("platform") or {}
        if (plat.get("os"), plat.get("architecture")) != ATTESTATION:
            yield m, find_in(plat)


def platform_entries(registry: Registry, repository: str, reference: str,
                     wanted: Platform | None = None) -> list[Entry]:
    """The platform manifests behind a reference: itself, or an index's entries.

    From an index, attestation entries (``unknown/unknown``) are dropped and, with ``wanted``,
    only that platform's entry is kept. A plain manifest's platform is read from its config.
    """
    media, body, digest = registry.get_manifest(repository, reference)
    doc = registry.document(body, f"GET /v2/{repository}/manifests/{reference}")
    found: list[Entry] = []
    if media in INDEXES:
        # The attestations of each platform kept travel with it (docker buildx imagetools
        # create keeps them too); those of platforms left out are left out with them.
        attached = {(m.get("annotations") or {}).get(attest.REFERENCE_DIGEST): m
                    for m in doc.get("manifests", []) if attest.is_attestation(m)}
        for m, p in index_platforms(doc):
            if p is not None and (wanted is None or p == wanted):
                found.append(Entry(p.name, repository, m["digest"], m["size"], m["mediaType"],
                                   attached.get(m["digest"])))
        return found
    config = registry.get_config(repository, doc["config"]["digest"])
    p = find_in(config)
    if p is None:
        raise UsageError(f"{repository}@{digest} is of a platform the harness does not know "
                         f"({config.get('os')}/{config.get('architecture')})",
                         "merge images of the platforms listed by --help")
    if wanted is not None and p != wanted:
        raise UsageError(f"{repository}@{digest} is {p.name}, not {wanted.name}",
                         "merge the image of the platform you meant")
    return [Entry(p.name, repository, digest, len(body), media)]
