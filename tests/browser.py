"""A real browser for the HTML report: Debian's chromium, headless, installed when missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from filelock import FileLock

LOCK = Path.home() / ".cache" / "harness" / "chromium.lock"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--disable-extensions"]


def chromium() -> str:
    """The chromium binary, installed once (without Recommends) where it is missing."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(LOCK)):
        if not shutil.which("chromium"):
            subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
                           check=True, capture_output=True,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    found = shutil.which("chromium")
    assert found, "chromium is not installed"
    return found


def dump_dom(page: Path) -> str:
    """The DOM chromium renders for ``page`` (a file), as HTML."""
    out = subprocess.run([chromium(), *FLAGS, "--dump-dom", page.resolve().as_uri()],
                         capture_output=True, text=True, check=True, timeout=120)
    return out.stdout


def screenshot(page: Path, png: Path, size: str = "1280,1100") -> Path:
    subprocess.run([chromium(), *FLAGS, f"--window-size={size}", f"--screenshot={png}",
                    page.resolve().as_uri()], capture_output=True, check=True, timeout=120)
    return png
