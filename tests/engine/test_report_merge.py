"""`multiarch-harness report` of two single-platform runs says what one run of both says,
and the merged report.html renders both platforms' phases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.core.outcomes import Exit
from tests.factories import Page
from tests.helpers import FIXTURES, ROOT, TINY, run_harness


def tiny(where: Path, *platforms: str) -> dict[str, Any]:
    run = run_harness(f"--dockerfile={FIXTURES / 'tiny/Dockerfile'}",
                      f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={where}",
                      "--image=harness-test/merge", "--require=",
                      *[f"--platform={p}" for p in platforms])
    assert run.returncode == Exit.OK, run.stdout[-4000:]
    data: dict[str, Any] = json.loads((where / "report.json").read_text())
    return data


def test_two_single_platform_runs_merge_into_what_one_run_says(tmp_path: Path,
                                                               tiny_base: Any) -> None:
    for p in ("linux/amd64", "linux/386"):
        tiny_base(p)
    both = tiny(tmp_path / "both", "linux/amd64", "linux/386")
    tiny(tmp_path / "amd64", "linux/amd64")
    tiny(tmp_path / "i386", "linux/386")
    merge = subprocess.run([sys.executable, "-m", "harness", "report",
                            f"--report-dir={tmp_path / 'merged'}", str(tmp_path / "amd64"),
                            str(tmp_path / "i386")], cwd=ROOT, capture_output=True, text=True,
                           check=False, timeout=120)
    merged = json.loads((tmp_path / "merged" / "report.json").read_text())
    assert merge.returncode == both["exit_status"] == merged["exit_status"] == Exit.OK
    assert merged["verdict"] == both["verdict"] == "quirk"
    for key in ("platform", "verdict", "findings"):
        assert [p[key] for p in merged["platforms"]] == [p[key] for p in both["platforms"]]
    assert [sorted(p["observed"]) for p in merged["platforms"]] == \
        [sorted(p["observed"]) for p in both["platforms"]]
    assert set(merged["hosts"]) == {"linux/amd64", "linux/386"}
    assert merged["run"]["start"] < merged["run"]["end"]
    page = Page((tmp_path / "merged" / "report.html").read_text())
    for p in ("linux/amd64", "linux/386"):
        assert {"build", "probe"} <= {a["data-phase"] for a in page.having(
            "rect", data_platform=p)}
    assert "```mermaid" in (tmp_path / "merged" / "report.md").read_text()
