"""Answers kept by what they depend on, so that a rerun with nothing changed does not ask again.

An image's ID is the digest of its config, which names the digests of its layers: two
containers of one image ID hold the same files, byte for byte. The ELF, linkage and CPU-level
audits read nothing else (not the host, not the emulator), so their answer for an image ID is
the same on every run of the same harness code with the same allow list; it is kept in
``$XDG_CACHE_HOME/harness/audits`` (``~/.cache``) and read back on the next run.

What runs the image (the probes, the hello world, the baseline CPU) depends on this machine
as well: its key (``answers_key``) adds the kernel, the CPU, every binfmt_misc handler with
its interpreter (and the second QEMU a crash is asked again under), the engine and its
runtime, and the options the probes ran with. Those answers are kept in
``$XDG_CACHE_HOME/harness/answers``, only for an engine on this machine (another's kernel and
emulators cannot be read from here), only where every source answered (a machine that could
not check is asked again), and never for a platform with declared checks (a user's command
may depend on what no key holds).

Each key takes a digest of the harness's own source, so changed code never reads an old
answer, and ``--no-cache`` neither reads nor trusts what is kept (it writes anew). Each
entry is written with the SHA-256 of its own content and read back bounded, checked against
its schema (harness.core.reporting.report_schema.KEPT) and against that checksum: an entry cut short
or changed is asked again, never judged.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema

from harness.core import jsondoc
from harness.core.jsondoc import JSON
from harness.core.reporting.report_schema import KEPT
from harness.machine import emulators, files, host

KEPT_FILES = 200  # the newest are kept; older ones are removed as new ones are written
# Bytes of one entry: the answers keep each command's whole output (up to 64 MiB each, the
# probes' cap), a few kilobytes to a few megabytes in practice; a larger file is no entry.
KEPT_BYTES = 128 << 20

_log = logging.getLogger(__name__)


def cache_dir() -> Path:
    return files.cache_dir("audits")


def answers_dir() -> Path:
    return files.cache_dir("answers")


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


def answers_key(image_id: str, platform: str, ran: Mapping[str, object],
                engine: Mapping[str, object]) -> str:
    """What the answers of a run of the image depend on: its content, how it was run
    (``ran``: the platform it ran as, emulator, options), the engine that ran it, this
    machine (``machine``) and the code that asked."""
    job = {"image": image_id, "platform": platform, "ran": ran, "engine": engine,
           "machine": machine(), "code": code_digest()}
    return hashlib.sha256(json.dumps(job, sort_keys=True, default=str).encode()).hexdigest()


def machine() -> JSON:
    """What this machine runs an image's programs with: its kernel, its CPU, every
    binfmt_misc handler with its interpreter file, and the second QEMUs a crash is asked
    again under (harness.machine.emulators); any change to one asks every platform again."""
    handlers = {h.name: [h.enabled, h.interpreter, h.flags, h.offset, h.magic.hex(),
                         h.mask.hex(), file_stamp(h.interpreter)]
                for h in host.read_handlers()}
    second = {p.name: file_stamp(str(p)) for p in sorted(emulators.cache_dir().glob("qemu-*"))}
    return {"kernel": list(os.uname()), "cpu": _cpu(), "handlers": handlers,
            "second": second}


def file_stamp(path: str) -> list[Any] | None:
    """A file's identity as ccache's default ``compiler_check`` takes a compiler's: its real
    path, size and times (a package upgrade changes them), not a digest of its bytes (the 32
    handlers of Debian's qemu-user-static are 320 MB: 0.9 s of hashing per process)."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return None
    return [real, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _cpu() -> list[str]:
    """The CPU's model and feature flags (the first processor's, as /proc/cpuinfo says)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return []
    first = text.split("\n\n", 1)[0]
    wanted = ("vendor_id", "model name", "flags", "Features", "CPU implementer", "CPU part",
              "CPU variant", "CPU architecture")
    return [line.strip() for line in first.splitlines()
            if line.partition(":")[0].strip() in wanted]


def load(name: str, where: Path | None = None) -> list[JSON] | None:
    """The kept answer under ``name``, or None: never kept, unreadable, over KEPT_BYTES or
    too deep, of the wrong shape (harness.core.reporting.report_schema.KEPT), or not the content its
    checksum was taken of (cut short, changed). Whatever is off is asked again, never
    trusted: an entry cut down to its first observation would judge as a pass."""
    path = (where or cache_dir()) / f"{name}.json"
    try:
        entry = files.read_json(path, KEPT_BYTES)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # jsondoc.Exceeded is a ValueError
        _ignored(path, str(exc))
        return None
    error = next(iter(_VALIDATOR.iter_errors(entry)), None)
    if error is not None:
        where_ = "/".join(str(p) for p in error.absolute_path) or "the top level"
        _ignored(path, f"at {where_}: {error.message[:200]}")
        return None
    data: list[JSON] = entry["observations"]
    if entry["sha256"] != _checksum(data):
        _ignored(path, "its content is not what its checksum was taken of")
        return None
    return data


def store(name: str, data: Sequence[Mapping[str, object]], where: Path | None = None) -> None:
    """Keep ``data`` under ``name`` with the checksum of its content (best effort: a cache
    that cannot be written is no cache, and one over KEPT_BYTES could never be read back),
    and drop the oldest beyond KEPT_FILES."""
    folder = where or cache_dir()
    try:
        # The checksum is of what will be read back (tuples as lists, keys as strings).
        payload = json.loads(json.dumps(data, allow_nan=False))
        text = json.dumps({"kept": 1, "sha256": _checksum(payload), "observations": payload},
                          allow_nan=False)
    except ValueError:  # a non-finite number is no JSON: never kept, asked again
        return
    if len(text.encode()) > KEPT_BYTES:
        return
    try:
        files.own_dir(folder)
        files.write_atomic(folder / f"{name}.json", text)
        kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-KEPT_FILES]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


_VALIDATOR = jsonschema.Draft202012Validator(KEPT)


def _checksum(data: object) -> str:
    return hashlib.sha256(jsondoc.canonical(data).encode()).hexdigest()


def _ignored(path: Path, why: str) -> None:
    _log.debug("kept answer %s ignored, asked again: %s", path, why)
