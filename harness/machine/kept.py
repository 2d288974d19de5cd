"""Audits kept by what they read, so that a rerun with nothing changed does not read again.

An image's ID is the digest of its config, which names the digests of its layers: two
containers of one image ID hold the same files, byte for byte. The ELF, linkage and CPU-level
audits read nothing else (not the host, not the emulator), so their answer for an image ID is
the same on every run of the same harness code with the same allow list; it is kept in
``$XDG_CACHE_HOME/harness/audits`` (``~/.cache``) and read back on the next run. The key takes
a digest of the harness's own source, so a changed audit never reads an old answer, and
``--no-cache`` neither reads nor trusts what is kept (it writes anew). Everything that runs
the image (the probes, the hello world, the baseline CPU) is asked again on every run: its
answer depends on this machine.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from harness.machine import files

KEPT_FILES = 200  # the newest are kept; older ones are removed as new ones are written


def cache_dir() -> Path:
    return files.cache_dir("audits")


@functools.cache
def code_digest() -> str:
    """A digest of the harness's own Python source: any change to it is a new key."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def key(image_id: str, platform: str, allow: tuple[str, ...]) -> str:
    """What an audit's answer depends on: the image's content, the platform it is judged as,
    the paths allowed to be foreign, and the code that judges."""
    job = {"image": image_id, "platform": platform, "allow": list(allow),
           "code": code_digest()}
    return hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest()


def load(name: str, where: Path | None = None) -> list[dict[str, Any]] | None:
    """The kept answer under ``name``, or None (never kept, or unreadable: read again)."""
    path = (where or cache_dir()) / f"{name}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        return None
    return data


def store(name: str, data: list[dict[str, Any]], where: Path | None = None) -> None:
    """Keep ``data`` under ``name`` (best effort: a cache that cannot be written is no cache),
    and drop the oldest beyond KEPT_FILES."""
    folder = where or cache_dir()
    try:
        files.own_dir(folder)
        files.write_atomic(folder / f"{name}.json", json.dumps(data))
        kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-KEPT_FILES]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
