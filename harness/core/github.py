"""What GitHub Actions shows of a report: one annotation per platform that did not pass, and
the gate's word at the top of the step summary. Pure.

GitHub shows at most ten annotations of a kind per step, so there is one per platform, not
one per finding. A `fail` blocks the release (the image is wrong); an `error` is the
runner's problem (retry the job, do not debug the image); a `quirk` is a warning, or blocks
under ``quirk-policy = "fail"``.
"""

from __future__ import annotations

from typing import Any

from harness.core import sinks
from harness.core.outcomes import Kind

MESSAGE_LIMIT = 600  # characters of an annotation's text


def _what(platform: dict[str, Any], verdict: str) -> str:
    """The findings behind a platform's verdict, each with its fix."""
    lines = [f"{f['source']}: {f['message']}" + (f" (fix: {f['fix']})" if f.get("fix") else "")
             for f in platform.get("findings", []) if _verdict_of(f["kind"]) == verdict]
    return "\n".join(lines) or f"the platform's verdict is {verdict}"


def _verdict_of(kind: str) -> str:
    return str(Kind(kind).verdict)


def annotation_lines(report: dict[str, Any]) -> list[str]:
    """``::error``/``::warning`` lines, one per platform that did not pass."""
    blocking_quirk = report.get("quirk_policy") == "fail"
    lines = []
    for p in report.get("platforms", []):
        name, verdict = p["platform"], p["verdict"]
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


def gate(report: dict[str, Any]) -> str:
    """The first line of the step summary: what the run means for the release."""
    by: dict[str, list[str]] = {}
    for p in report.get("platforms", []):
        by.setdefault(p["verdict"], []).append(sinks.markdown_code(p["platform"]))
    lines = []
    if by.get("fail"):
        lines.append(f"**Release blocked: the image is wrong** on {', '.join(by['fail'])}. "
                     "Fix the image; no tag is moved.")
    if by.get("error"):
        lines.append(f"**Runner problem** on {', '.join(by['error'])}: the platform could "
                     "not be checked there, so the image was not judged. Re-run the job "
                     "rather than debug the image.")
    if by.get("quirk"):
        effect = ("blocks the release (quirk-policy fail)" if report.get("quirk_policy")
                  == "fail" else "passes with a warning (quirk-policy warn)")
        lines.append(f"Known host quirk on {', '.join(by['quirk'])}: {effect}.")
    if not lines:
        lines.append(f"**All {len(report.get('platforms', []))} platforms passed.**")
    return "\n\n".join(lines) + "\n"
