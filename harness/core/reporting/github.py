"""What GitHub Actions shows of a report: one annotation per platform that did not pass, and
the gate's word at the top of the step summary. Pure.

GitHub shows at most ten annotations of a kind per step, so there is one per platform, not
one per finding. A `fail` blocks the release (the image is wrong); an `error` is the
runner's problem (retry the job, do not debug the image); a `quirk` is a warning, or blocks
under ``quirk-policy = "fail"``.
"""

from __future__ import annotations

from harness.core import sinks
from harness.core.reporting.report import Report
from harness.core.results.platform_result import PlatformResult

MESSAGE_LIMIT = 600  # characters of an annotation's text


def _what(platform: PlatformResult, verdict: str) -> str:
    """The findings behind a platform's verdict, each with its fix."""
    lines = [f"{f.source}: {f.message}" + (f" (fix: {f.fix})" if f.fix else "")
             for f in platform.findings if f.verdict == verdict]
    return "\n".join(lines) or f"the platform's verdict is {verdict}"


def annotation_lines(report: Report) -> list[str]:
    """``::error``/``::warning`` lines, one per platform that did not pass."""
    blocking_quirk = report.quirk_policy == "fail"
    lines = []
    for p in report.platforms:
        name, verdict = p.platform, p.verdict
        if verdict == "fail":
            level, title = "error", f"{name}: the image is wrong (fail)"
        elif verdict == "error":
            level, title = "error", f"{name}: runner problem (error), retry the job"
        elif verdict == "quirk":
            level = "error" if blocking_quirk else "warning"
            title = f"{name}: known host quirk" + (" (quirk-policy fail)" if blocking_quirk
                                                    else "")
        else:
            continue
        lines.append(f"::{level} title={sinks.github_property(title)}::"
                     f"{sinks.github(_what(p, verdict), MESSAGE_LIMIT)}")
    return lines


def gate(report: Report) -> str:
    """The first line of the step summary: what the run means for the release."""
    by: dict[str, list[str]] = {}
    for p in report.platforms:
        by.setdefault(p.verdict, []).append(sinks.markdown_code(p.platform))
    lines = []
    if by.get("fail"):
        lines.append(f"**Release blocked: the image is wrong** on {', '.join(by['fail'])}. "
                     "Fix the image; no tag is moved.")
    if by.get("error"):
        lines.append(f"**Runner problem** on {', '.join(by['error'])}: the platform could "
                     "not be checked there, so the image was not judged. Re-run the job "
                     "rather than debug the image.")
    if by.get("quirk"):
        effect = ("blocks the release (quirk-policy fail)" if report.quirk_policy
                  == "fail" else "passes with a warning (quirk-policy warn)")
        lines.append(f"Known host quirk on {', '.join(by['quirk'])}: {effect}.")
    if not lines:
        lines.append(f"**All {len(report.platforms)} platforms passed.**")
    return "\n\n".join(lines) + "\n"
