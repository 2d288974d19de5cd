"""The build step that brought each file a finding names, read from the engine's image.

Only where the audits found a file to name (an image without file findings pays nothing),
one of two ways (``steps_read`` says which):

- **in place**: an engine on this machine whose image store is overlay2 names each layer's
  directory (``GraphDriver``); each path is looked up in them, top layer first, read-only,
  no symlink of the image followed: the first that holds it brought it (the file is in the
  image, so no whiteout above hides it). The history comes from the engine's history API,
  whose sizes and keywords tell the layers apart (harness.core.answers.origins.layered_history).
  Milliseconds; used where this process may read those directories (root, as CI runs);
- **save**: the image saved by the engine (``docker image save``) and read once as a
  stream: of each layer tar only the headers are read (contents are skipped, never kept),
  of the manifest and config the JSON. Seconds for a large image (docs/benchmarks.md).
  Used everywhere else.

harness.core.answers.origins then finds the last layer that holds each path, its history entry,
and, where the harness built the image, the Dockerfile instruction and line. Layers that
cannot be read leave the findings as they are (they stand without a step; ``steps_error``
in the observation says why).
"""

from __future__ import annotations

import json
import os
import stat
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import docker
import docker.errors
import requests

from harness.core.answers import details, origins
from harness.core.answers.observation import Observation
from harness.core.failures.diagnosis import clean
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
               built: Built | None, in_place: bool = False) -> None:
    """Add to each observation that lists files (harness.core.answers.details.files_named) the step
    that brought each of them (``detail["steps"]``). ``in_place``: the engine runs on this
    machine, so its layer directories may be read where it names them; else (or where they
    cannot be read) the engine's save is."""
    listing = [(o, list(details.files_named(o.source, o.detail))) for o in found]
    listing = [(o, items) for o, items in listing if items]
    if not listing:
        return
    started = time.monotonic()
    wanted = {c for _o, items in listing for item in items for c in origins.candidates(item)}
    try:
        read = "in place"
        seen = _in_place(client, image, wanted) if in_place else None
        if seen is None:
            read, seen = "save", _read(client, image, wanted)
        last, diff_ids, history = seen
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
        o.detail["steps_read"] = read


def _in_place(client: docker.DockerClient, image: str, wanted: set[str]
              ) -> tuple[dict[str, int], list[str], list[dict[str, Any]]] | None:
    """What :func:`_read` gives, from the overlay2 layer directories of an engine on this
    machine; None where they are not there to read (another driver, another machine, no
    permission) or the history API cannot tell the layers apart."""
    attrs = client.api.inspect_image(image)
    driver = attrs.get("GraphDriver") or {}
    data = driver.get("Data") or {}
    diff_ids = [str(d) for d in (attrs.get("RootFS") or {}).get("Layers") or []]
    if driver.get("Name") != "overlay2" or not data.get("UpperDir"):
        return None
    top_first = [str(data["UpperDir"]), *filter(None, str(data.get("LowerDir") or "")
                                                .split(":"))]
    if len(top_first) != len(diff_ids):
        return None
    entries = [(str(h.get("CreatedBy") or ""), int(h.get("Size") or 0))
               for h in reversed(client.api.history(image))]
    history = origins.layered_history(entries, len(diff_ids))
    if history is None:
        return None
    fds: list[int] = []
    try:
        for directory in top_first:
            fds.append(os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
    except OSError:
        for fd in fds:
            os.close(fd)
        return None
    last: dict[str, int] = {}
    try:
        for path in wanted:
            number = next((n for n, fd in enumerate(fds) if _holds(fd, path)), None)
            if number is not None:
                last[path] = len(fds) - 1 - number
    finally:
        for fd in fds:
            os.close(fd)
    return last, diff_ids, history


def _holds(root: int, path: str) -> bool:
    """Whether the layer directory ``root`` holds ``path`` itself: each directory on the
    way opened without following a link (a link of the image leads out of the layer, as
    far as the host's own files), and no whiteout (a 0/0 character device) at its end."""
    parts = path.strip("/").split("/")
    if not path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return False
    fd = os.dup(root)
    try:
        for part in parts[:-1]:
            try:
                step = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                               | os.O_CLOEXEC, dir_fd=fd)
            except OSError:
                return False
            os.close(fd)
            fd = step
        try:
            st = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
        except OSError:
            return False
        return not (stat.S_ISCHR(st.st_mode) and st.st_rdev == 0)
    finally:
        os.close(fd)


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
