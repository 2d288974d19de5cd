"""The build step that brought each file a finding names, read from the engine's image.

Only where the audits found a file to name (an image without file findings pays nothing):
the image is saved by the engine (``docker image save``) and read once as a stream: of each
layer tar only the headers are read (contents are skipped, never kept), of the manifest and
config the JSON. harness.core.origins then finds the last layer that holds each path, its
history entry, and, where the harness built the image, the Dockerfile instruction and line.
A save the engine refuses or that cannot be read leaves the findings as they are (they
stand without a step; ``steps_error`` in the observation says why).
"""

from __future__ import annotations

import json
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import docker
import docker.errors
import requests

from harness.core import origins
from harness.core.diagnosis import clean
from harness.core.observation import Observation
from harness.machine.streams import ChunkFile

JSON_LIMIT = 4 << 20  # bytes of a manifest or config read; a layer is read by headers only
_BLOCK = 512


@dataclass(frozen=True)
class Built:
    """The Dockerfile the harness built the image from: its text, the stage built (None:
    the last), and its name as shown in a step (``Dockerfile``)."""

    text: str
    target: str | None
    shown: str


def dockerfile(text: str, path: Path, context: Path, target: str | None) -> Built:
    """The Dockerfile ``path`` (its ``text``) as built from ``context``: named relative to
    the context where it is in it, as the user names it."""
    try:
        shown = str(path.resolve().relative_to(context.resolve()))
    except ValueError:
        shown = str(path)
    return Built(text, target, shown)


def name_steps(client: docker.DockerClient, image: str, found: list[Observation],
               built: Built | None) -> None:
    """Add to each observation that lists files (harness.core.origins.FILE_LISTS) the step
    that brought each of them (``detail["steps"]``)."""
    listing = [(o, origins.listed(o.source, o.detail)) for o in found]
    listing = [(o, items) for o, items in listing if items]
    if not listing:
        return
    started = time.monotonic()
    wanted = {c for _o, items in listing for item in items for c in origins.candidates(item)}
    try:
        last, diff_ids, history = _read(client, image, wanted)
    except (docker.errors.DockerException, requests.RequestException, tarfile.TarError,
            OSError, ValueError) as exc:
        for o, _items in listing:
            o.detail["steps_error"] = clean(f"the image's layers could not be read: {exc}", 300)
        return
    chained = origins.chain(built.text, built.target) if built is not None else None
    for o, items in listing:
        steps: dict[str, origins.Step] = {}
        for item in items:
            path = origins.path_of(item, last)
            if path is not None and path not in steps:
                steps[path] = origins.step_of(path, last[path], diff_ids, history, chained,
                                              built.shown if built is not None else None)
        o.detail["steps"] = [s.to_dict() for s in steps.values()]
        o.detail["steps_seconds"] = round(time.monotonic() - started, 2)


def _read(client: docker.DockerClient, image: str, wanted: set[str]
          ) -> tuple[dict[str, int], list[str], list[dict[str, Any]]]:
    """(each wanted path that a layer holds -> its last layer's number, the layers' diff
    IDs, the config's history), from the engine's save of ``image``."""
    layers: dict[str, origins.Layer] = {}
    links: dict[str, str] = {}  # a layer saved once, named again by a link
    small: dict[str, bytes] = {}
    reader = ChunkFile(client.api.get_image(image))
    try:
        with tarfile.open(fileobj=reader, mode="r|") as outer:
            for member in outer:
                if member.issym() or member.islnk():
                    base = member.name.rpartition("/")[0]
                    target = member.linkname if member.islnk() else _join(base, member.linkname)
                    links[member.name] = target
                    continue
                fh = outer.extractfile(member) if member.isfile() else None
                if fh is None:
                    continue
                head = fh.read(_BLOCK)
                mode = _tar_mode(head)
                if mode is not None:
                    layers[member.name] = origins.summarise(_names(head, fh, mode), wanted)
                elif member.size <= JSON_LIMIT:
                    small[member.name] = head + fh.read()
    finally:
        reader.close()
    manifest = _json(small, "manifest.json")
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise ValueError("the save has no manifest")
    config = _json(small, str(manifest[0].get("Config")))
    names = [str(n) for n in manifest[0].get("Layers") or []]
    ordered = [layers.get(links.get(n, n), origins.Layer()) for n in names]
    if not isinstance(config, dict):
        raise ValueError("the image config is not an object")
    diff_ids = [str(d) for d in (config.get("rootfs") or {}).get("diff_ids") or []]
    history = [h for h in config.get("history") or [] if isinstance(h, dict)]
    if len(diff_ids) != len(names):
        diff_ids = [""] * len(names)  # a config that does not name its layers: none shown
    return origins.last_layers(ordered), diff_ids, history


def _join(base: str, link: str) -> str:
    parts: list[str] = base.split("/") if base else []
    for part in link.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def _tar_mode(head: bytes) -> str | None:
    """How to read a member that is a layer: a tar (``ustar`` in its first header), or a
    gzipped one (an engine that keeps compressed blobs); None: no layer."""
    if len(head) == _BLOCK and head[257:262] == b"ustar":
        return "r|"
    if head[:2] == b"\x1f\x8b":
        return "r|gz"
    return None


def _names(head: bytes, fh: IO[bytes], mode: str) -> Iterator[str]:
    """The member names of the layer tar that starts with ``head`` and goes on in ``fh``:
    headers only, each member's content skipped unread."""
    def chunks() -> Iterator[bytes]:
        yield head
        while chunk := fh.read(1 << 16):
            yield chunk

    with tarfile.open(fileobj=ChunkFile(chunks()), mode=mode) as layer:  # type: ignore[call-overload]
        for member in layer:
            yield member.name


def _json(small: dict[str, bytes], name: str) -> Any:
    if name not in small:
        raise ValueError(f"the save has no {clean(name, 100)}")
    return json.loads(small[name])
