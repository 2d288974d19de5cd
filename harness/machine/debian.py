"""This machine's Debian: the mirror its apt uses, and the suite a base image names.

Standard library only, so that provisioning can run on a bare Debian root with nothing but
python3 (the test of the install list does exactly that).
"""

from __future__ import annotations

import re
from pathlib import Path

# Written by harness.machine.provision; its suite is not the one to bootstrap from.
BUILDX_SOURCES = Path("/etc/apt/sources.list.d/harness-buildx.sources")


def debian_mirror() -> str | None:
    """The Debian mirror this machine's apt uses (deb822 or one-line sources), if any."""
    paths = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in paths:
        if path == BUILDX_SOURCES or not path.is_file():
            continue
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[:1] == ["URIs:"]:
                uris = parts[1:]
            elif parts[:1] == ["deb"]:
                uris = [p for p in parts[1:] if not p.startswith("[")][:1]
            else:
                continue
            for uri in uris:
                if uri.rstrip("/").endswith("/debian"):
                    return uri.rstrip("/")
    return None


def debian_suite(base: str) -> str | None:
    """``bookworm`` for ``debian:bookworm-slim``; None for bases that are not Debian."""
    m = re.fullmatch(r"(?:[\w.-]+/)*(?:library/)?debian:([a-z]+)(?:-slim)?(?:-\d+)?", base)
    return m[1] if m else None
