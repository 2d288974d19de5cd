"""What the harness reads from a Dockerfile's text: its FROM images and its base argument.

Pure: functions of the text. ``FROM`` lines are read as BuildKit reads them: flags
(``--platform=``) skipped, ``AS name`` recorded, and a later ``FROM name`` is the earlier stage,
not an image.
"""

from __future__ import annotations

import re

DEFAULT_BASE = "debian:bookworm-slim"
_FROM = re.compile(r"^\s*FROM\s+(?P<rest>.+?)\s*$", re.MULTILINE | re.IGNORECASE)
_BASE_ARG = re.compile(r"^\s*ARG\s+BASE_IMAGE\b", re.MULTILINE | re.IGNORECASE)
_BASE_DEFAULT = re.compile(r"^\s*ARG\s+BASE_IMAGE\s*=\s*[\"']?([^\s\"']+)",
                           re.MULTILINE | re.IGNORECASE)


def has_from(text: str) -> bool:
    return _FROM.search(text) is not None


def declares_base_arg(text: str) -> bool:
    """Whether the Dockerfile takes ``ARG BASE_IMAGE``, the hook for per-platform bases."""
    return _BASE_ARG.search(text) is not None


def base_arg_default(text: str) -> str:
    """The default of ``ARG BASE_IMAGE=…``, or Debian bookworm-slim."""
    m = _BASE_DEFAULT.search(text)
    return m[1] if m else DEFAULT_BASE


def from_images(text: str) -> list[str]:
    """The images the stages start from, in order, each once: not ``scratch``, not an
    earlier stage, not a reference made of build arguments (``${BASE}``)."""
    stages: set[str] = set()
    images: list[str] = []
    for m in _FROM.finditer(text):
        words = [w for w in m["rest"].split() if not w.startswith("--")]
        if not words:
            continue
        image = words[0]
        if image.lower() not in stages and image != "scratch" and "$" not in image \
                and image not in images:
            images.append(image)
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
    return images
