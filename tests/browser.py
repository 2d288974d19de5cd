"""A real browser for the HTML report: Debian's chromium, headless, installed when missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import debian_package

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--disable-extensions"]


def chromium() -> str:
    return debian_package("chromium", "chromium")


def dump_dom(page: Path) -> str:
    """The DOM chromium renders for ``page`` (a file), as HTML."""
    out = subprocess.run([chromium(), *FLAGS, "--dump-dom", page.resolve().as_uri()],
                         capture_output=True, text=True, check=True, timeout=120)
    return out.stdout


def screenshot(page: Path, png: Path, size: str = "1280,1100") -> Path:
    subprocess.run([chromium(), *FLAGS, f"--window-size={size}", f"--screenshot={png}",
                    page.resolve().as_uri()], capture_output=True, check=True, timeout=120)
    return png
