"""The platforms as a GitHub Actions matrix: one job per platform, on a native runner where
GitHub offers one, for ``fromJSON``. 32-bit arm goes to x86_64 under QEMU: GitHub's arm64
runners (and other clouds' arm64 machines) have CPUs without AArch32, and Debian's
qemu-user-static registers no arm handler on an arm64 host. Pure."""

from __future__ import annotations

from harness.core import jsondoc
from harness.core.failures.errors import UsageError
from harness.core.jsondoc import JSON
from harness.core.oci import reference
from harness.core.platforms.table import Platform

X86_RUNNER = "ubuntu-24.04"
ARM_RUNNER = "ubuntu-24.04-arm"


def runner_for(platform: Platform) -> str:
    """The GitHub-hosted runner a platform builds on: its own architecture where there is
    one (arm64 only: not 32-bit arm, which those CPUs do not execute), else x86_64 (under
    QEMU)."""
    return ARM_RUNNER if platform.architecture == "arm64" else X86_RUNNER


def matrix(platforms: list[Platform], runners: dict[str, str] | None = None
           ) -> JSON:
    """The matrix; ``runners`` (platform name -> label) replaces the hosted runner of a
    platform (arm runners are not offered to every repository)."""
    chosen = runners or {}
    return {"include": [{"platform": p.name, "slug": p.slug,
                         "runner": chosen.get(p.name) or runner_for(p)} for p in platforms]}


BUILDER_OUTPUTS_BYTES = 1 << 20  # a digest and metadata-action's JSON: a few kilobytes


def builder_reference(text: str) -> str:
    """``REPO@DIGEST`` from docker/github-builder's outputs as ``toJSON(needs.JOB.outputs)``
    gives them: ``digest`` (the index it pushed) and ``meta-json`` (docker/metadata-action's
    JSON, whose ``tags`` name the repository). Its digest, not a tag: a tag may have moved
    since. UsageError (one line, the fix) for anything else."""
    fix = ("pass toJSON(needs.JOB.outputs) of a github-builder job with output: image and "
           "push: true, or give the ref input instead")
    try:
        outputs = jsondoc.parse(text, max_bytes=BUILDER_OUTPUTS_BYTES)
        meta = outputs.get("meta-json") or "{}"
        if isinstance(meta, str):
            meta = jsondoc.parse(meta, max_bytes=BUILDER_OUTPUTS_BYTES)
        tags = meta.get("tags") or []
        digest = outputs.get("digest") or ""
    except (ValueError, AttributeError) as exc:
        raise UsageError("the builder outputs are not github-builder's outputs as JSON",
                         fix) from exc
    if outputs.get("output-type") not in (None, "", "image"):
        raise UsageError("the builder outputs are of a local output, not an image", fix)
    if not isinstance(digest, str) or not reference.DIGEST.fullmatch(digest):
        raise UsageError("the builder outputs hold no image digest (was it pushed?)", fix)
    if not isinstance(tags, list) or not tags or not isinstance(tags[0], str):
        raise UsageError("the builder outputs' meta-json names no image (meta-images)", fix)
    name = reference.check(tags[0], "meta-json tag")
    # NAME[:TAG]: the tag is the part after the last colon that is past the last slash.
    head, _slash, last = name.rpartition("/")
    repository = f"{head}/{last.partition(':')[0]}" if head else last.partition(":")[0]
    return reference.check(f"{repository}@{digest}", "builder reference")
