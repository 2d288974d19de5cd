"""The GitLab CI template (ci/gitlab/multiarch-check.gitlab-ci.yml), read as GitLab reads it:
every job with its ``extends`` merged in, validated against GitLab's published CI schema
(check-jsonschema's vendored copy, offline; ``nox -s lint`` validates the file as written,
where hidden jobs go unchecked), its structure as the docs give it, and shellcheck on every
script."""

from __future__ import annotations

import importlib.resources
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.gitlab import KEYWORDS, jobs, load


def schema() -> dict[str, Any]:
    path = importlib.resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / \
        "gitlab-ci.json"
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def validate(data: dict[str, Any]) -> None:
    whole = {**{k: data[k] for k in data if k in KEYWORDS}, **jobs(data)}
    jsonschema.validate(whole, schema())


def test_every_job_as_gitlab_merges_it_is_valid_for_gitlab_s_schema() -> None:
    validate(load())


def test_a_mistake_in_a_hidden_job_is_caught_once_merged() -> None:
    """The schema skips hidden jobs (`.multiarch-check`): merged into the jobs that extend
    them, their mistakes show."""
    data = load()
    data[".multiarch-check"]["artifacts"]["when"] = "sometimes"
    with pytest.raises(jsonschema.ValidationError, match="sometimes"):
        validate(data)


def test_a_job_per_platform_on_its_runner_and_a_report_that_needs_them_all() -> None:
    data = load()
    run = jobs(data)
    variables = data["variables"]
    checks = {name: job for name, job in run.items() if "parallel" in job}
    platforms = {name: [p for leg in job["parallel"]["matrix"] for p in leg["PLATFORM"]]
                 for name, job in checks.items()}
    # Each platform once, and exactly those the index must hold.
    listed = [p for names in platforms.values() for p in names]
    assert sorted(listed) == sorted(variables["MULTIARCH_PLATFORMS"].split(","))
    assert len(set(listed)) == len(listed)
    # arm64 on the arm64 runner's tag, the rest on amd64's; both overridable by a variable.
    for name, names in platforms.items():
        tag = "$MULTIARCH_ARM64_TAG" if names == ["linux/arm64"] else "$MULTIARCH_AMD64_TAG"
        assert checks[name]["tags"] == [tag], name
    assert {"MULTIARCH_ARM64_TAG", "MULTIARCH_AMD64_TAG"} <= set(variables)
    for name, job in checks.items():
        assert job["needs"] == ["multiarch-check:pin"], name  # one digest for every job
        assert job["artifacts"]["when"] == "always" and job["artifacts"]["paths"] == ["reports/"]
        assert any("--index-platforms" in line for line in job["script"])
    report = run["multiarch-check:report"]
    assert report["when"] == "always"
    assert sorted(n["job"] for n in report["needs"] if n.get("artifacts")) == sorted(checks)
    assert any("--platform \"$MULTIARCH_PLATFORMS\"" in line for line in report["script"])
    assert run["multiarch-check:pin"]["artifacts"]["reports"]["dotenv"] == "pin.env"


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_every_script_passes_shellcheck(tmp_path: Path) -> None:
    """As GitLab's shell runs them: before_script then script, in one shell (sh: a job's
    image may have no bash)."""
    for name, job in jobs(load()).items():
        lines = [*job.get("before_script", []), *job["script"]]
        target = tmp_path / "job.sh"
        target.write_text("#!/bin/sh\nset -e\n" + "\n".join(lines) + "\n")
        done = subprocess.run(["shellcheck", "--shell=sh", str(target)], capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, f"{name}:\n{done.stdout}"
