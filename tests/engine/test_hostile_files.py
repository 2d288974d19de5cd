"""An image of files that broke the audits (issue 35, round three): each parser of image
bytes makes progress or stops, a malformed file is a finding about that file, a budget
spent is said, and none of them hides the real fail beside them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from harness.core.outcomes import Exit
from tests.helpers import FIXTURES, TINY, run_harness

pytestmark = pytest.mark.engine


def test_hostile_files_are_findings_and_the_real_fail_stands(tmp_path: Path,
                                                             tiny_base: Any) -> None:
    tiny_base("linux/amd64")
    start = time.monotonic()
    run = run_harness("--platform=linux/amd64",
                      f"--dockerfile={FIXTURES / 'hostile-files' / 'Dockerfile'}",
                      f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path}",
                      "--image=harness-test/hostile-files", "--require=", "--no-cache")
    seconds = time.monotonic() - start
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-3000:]
    [platform] = json.loads((tmp_path / "report.json").read_text())["platforms"]
    kinds = {(f["source"], f["kind"]) for f in platform["findings"]}
    assert {("elf-audit", "mismatch"), ("elf-audit", "broken"), ("linkage", "error")} <= kinds
    audit = platform["observed"]["elf-audit"]["detail"]
    assert audit["malformed"] == ["/usr/local/bin/phoff (its program header table (3 entries "
                                  "at offset 9223372036854775808) lies past its end (64 bytes))"]
    assert "/usr/local/bin/foreign (ELF 64-bit LSB AArch64)" in audit["foreign"]
    assert any(f.endswith("/d/foreign-deep (ELF 64-bit LSB AArch64)")  # 2,000 levels down
               for f in audit["foreign"])
    linkage = platform["observed"]["linkage"]["detail"]
    assert linkage["exhausted"][0].startswith("the loader's files are more than the 16 MiB")
    assert seconds < 300
