"""The git repository, ref and commit a build came from, for its provenance, tags and
annotations.

In GitHub Actions the workflow's own variables say it (``GITHUB_SERVER_URL``,
``GITHUB_REPOSITORY``, ``GITHUB_REF``, ``GITHUB_SHA``, the event's ``repository.default_branch``:
a checkout may be shallow or detached); elsewhere git is asked. A remote's user and password
never leave this machine: a URL is kept without them.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
from pathlib import Path

from harness.core.buildspec.metadata import GitContext


def public_url(url: str) -> str:
    """``url`` without the user and password a remote may carry (``https://TOKEN@host/…``)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme and parts.netloc and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urllib.parse.urlunsplit(parts._replace(netloc=host))
    return url


def _git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def describe(root: Path) -> tuple[str, str]:
    """(repository URL, commit) of the project at ``root``; empty strings where unknown."""
    server, repo, sha = (os.environ.get(k, "") for k in
                         ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    if server and repo and sha:
        return f"{server.rstrip('/')}/{repo}", sha
    return public_url(_git(root, "remote", "get-url", "origin")), _git(root, "rev-parse", "HEAD")


def context(root: Path) -> GitContext:
    """The ref, commit, default branch and repository of the project at ``root``. Outside
    Actions, a commit with a tag is built as that tag (``refs/tags/T``, the highest version
    first), else as its branch."""
    repository, sha = describe(root)
    ref = os.environ.get("GITHUB_REF", "")
    default = ""
    event = os.environ.get("GITHUB_EVENT_PATH", "")
    if event:
        try:
            default = str(json.loads(Path(event).read_text())["repository"]["default_branch"])
        except (OSError, ValueError, KeyError, TypeError):
            default = ""
    if not ref:
        tags = _git(root, "tag", "--points-at", "HEAD", "--sort=-version:refname").split()
        branch = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
        ref = f"refs/tags/{tags[0]}" if tags else f"refs/heads/{branch}" if branch else ""
    if not default:
        default = _git(root, "symbolic-ref", "--quiet", "--short",
                       "refs/remotes/origin/HEAD").removeprefix("origin/")
    return GitContext(ref, sha, default, repository)
