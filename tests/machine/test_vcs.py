"""Where a build came from: the remote without its credentials, and the commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.machine import vcs


def test_a_remote_url_loses_its_user_and_password() -> None:
    assert vcs.public_url("https://x-access-token:ghs_secret@github.com/o/r.git") == \
        "https://github.com/o/r.git"
    assert vcs.public_url("git@github.com:o/r.git") == "git@github.com:o/r.git"
    assert vcs.public_url("https://github.com/o/r") == "https://github.com/o/r"


def test_git_is_asked_outside_ci_and_the_workflow_inside(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"):
        monkeypatch.delenv(key, raising=False)
    git = ["git", "-C", str(tmp_path), "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "remote", "add", "origin", "https://me:pw@example.org/app.git"],
                   check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert vcs.describe(tmp_path) == ("https://example.org/app.git", head)
    assert vcs.describe(tmp_path / "nowhere") == ("", "")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/app")
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    assert vcs.describe(tmp_path) == ("https://github.com/team/app", "f" * 40)


def test_the_ref_is_a_tag_on_the_commit_else_its_branch(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_REF",
                "GITHUB_EVENT_PATH"):
        monkeypatch.delenv(key, raising=False)
    git = ["git", "-C", str(tmp_path), "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q", "-b", "trunk"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    assert vcs.context(tmp_path).ref == "refs/heads/trunk"
    subprocess.run([*git, "tag", "v1.9.0"], check=True)
    subprocess.run([*git, "tag", "v1.10.0"], check=True)
    assert vcs.context(tmp_path).ref == "refs/tags/v1.10.0"  # the highest version, not "9" > "1"


def test_in_actions_the_ref_and_default_branch_are_the_workflows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"repository": {"default_branch": "develop"}}')
    monkeypatch.setenv("GITHUB_REF", "refs/heads/develop")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    found = vcs.context(tmp_path / "not-a-checkout")
    assert (found.ref, found.default_branch, found.branch) == \
        ("refs/heads/develop", "develop", "develop")
