"""``multiarch-harness matrix``: the platforms to build as a GitHub Actions matrix (JSON on
stdout, for ``fromJSON``): those of ``--platform`` / ``[tool.harness]``, or with
``--platforms-from-base [REF]`` those the base image's index offers (attestation entries
dropped; platforms the table does not know named on stderr and left out).

``--pin REF`` (or ``--pin --builder-outputs JSON``, docker/github-builder's outputs) prints
instead the reference by its digest, ``HOST/REPO@DIGEST``: what every job of a check then
checks, whatever the tag says by then; with ``--registry-host`` only its registry's host,
without asking it (to log in first)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness.core.failures.errors import UsageError
from harness.core.oci import reference
from harness.core.oci.reference import Reference, parse_reference
from harness.core.outcomes import Exit
from harness.core.platforms.matrix import builder_reference, matrix
from harness.core.platforms.table import Platform, UnknownPlatform, parse_platforms
from harness.core.settings import options
from harness.distribution.publish import index_platforms
from harness.distribution.registry import INDEXES, Registry
from harness.machine import config as harness_config


def base_platforms(ref: str, insecure: bool) -> tuple[list[Platform], list[str]]:
    """(the known platforms of ``ref``'s index, in its order; the names of unknown ones)."""
    parsed = parse_reference(reference.with_registry(reference.check(ref, "base reference")))
    with Registry(parsed.host, insecure=insecure) as registry:
        media, body, _digest = registry.get_manifest(parsed.repository, parsed.reference)
        index = registry.document(body, f"GET /v2/{parsed.repository}/manifests/"
                                  f"{parsed.reference}")
    if media not in INDEXES:
        raise UsageError(f"{ref} is a single-platform image, not an index",
                         "name a multi-platform base, or list --platform yourself")
    known: list[Platform] = []
    unknown: list[str] = []
    for entry, platform in index_platforms(index):
        if platform is None:
            plat = entry.get("platform") or {}
            unknown.append("/".join(str(plat[k]) for k in ("os", "architecture", "variant")
                                    if plat.get(k)))
        elif platform not in known:
            known.append(platform)
    return known, unknown


def to_pin(ref: str, builder_outputs: str) -> Reference:
    """What ``--pin`` checks: ``ref`` or the builder's image (exactly one given)."""
    if bool(ref.strip()) == bool(builder_outputs.strip()):
        raise UsageError("--pin needs exactly one of a REF and --builder-outputs",
                         "give the ref input or the builder-outputs input, not both")
    text = builder_reference(builder_outputs) if builder_outputs.strip() else ref
    return parse_reference(reference.with_registry(reference.check(text)))


def pinned(ref: str, builder_outputs: str, insecure: bool) -> str:
    """``HOST/REPO@DIGEST`` of ``ref`` or of the builder's outputs (exactly one given), the
    digest the registry answers for it: a digest named is one that must exist."""
    parsed = to_pin(ref, builder_outputs)
    with Registry(parsed.host, insecure=insecure) as registry:
        # The registry answered and holds nothing by that name: bad input (as check says
        # it), not a runner to retry.
        if not registry.has_manifest(parsed.repository, parsed.reference):
            raise UsageError(f"nothing is published under {parsed}",
                             "name what the build pushed (its digest or a tag)")
        _media, _body, digest = registry.get_manifest(parsed.repository, parsed.reference)
    if parsed.digest and digest != parsed.digest:
        raise UsageError(f"the registry answers {digest} for {parsed.digest}",
                         "name the digest the build pushed")
    return f"{parsed.host}/{parsed.repository}@{digest}"


def main(argv: list[str]) -> int:
    parser = options.argument_parser("matrix", description=__doc__)
    parser.add_argument("--platforms-from-base", nargs="?", const="", default=None,
                        metavar="REF", help="the platforms of the base image's index "
                        "(default REF: the Dockerfile's base)")
    parser.add_argument("--pin", nargs="?", const="", default=None, metavar="REF",
                        help="print REF (or the --builder-outputs' image) by its digest")
    parser.add_argument("--builder-outputs", default="", metavar="JSON",
                        help="docker/github-builder's outputs, toJSON(needs.JOB.outputs)")
    parser.add_argument("--registry-host", action="store_true",
                        help="with --pin: print only the registry's host, asking nothing "
                        "(to log in before the pin)")
    args = parser.parse_args(argv)
    if args.pin is not None:
        print(to_pin(args.pin, args.builder_outputs).host if args.registry_host else
              pinned(args.pin, args.builder_outputs, args.insecure_registry))
        return Exit.OK
    if args.registry_host:
        raise UsageError("--registry-host goes with --pin", "write matrix --pin REF "
                         "--registry-host")
    if args.builder_outputs:
        raise UsageError("--builder-outputs goes with --pin", "write matrix --pin "
                         "--builder-outputs JSON")
    cfg = harness_config.load(Path.cwd(), platforms=args.platforms)
    platforms = cfg.platforms
    if args.platforms_from_base is not None:
        ref = args.platforms_from_base or cfg.base_image
        platforms, unknown = base_platforms(ref, args.insecure_registry)
        for name in unknown:
            print(f"matrix: {ref} offers {name}, which the platform table does not know; "
                  "left out", file=sys.stderr)
        if not platforms:
            raise UsageError(f"{ref} offers no platform the table knows",
                             "list --platform yourself")
    runners = {}
    for name, label in options.BY_KEY["runners"].convert(args.runners, "command line").items():
        try:
            [platform] = parse_platforms([name])
        except UnknownPlatform as exc:
            raise UsageError(f"--runner {name}={label}: {exc}",
                             "write --runner os/arch[/variant]=LABEL") from None
        if platform not in platforms:
            raise UsageError(f"--runner {name}={label}: {platform.name} is not built",
                             f"name one of {', '.join(p.name for p in platforms)}")
        if not label.strip():
            raise UsageError(f"--runner {name}= names no runner", "write a runner label")
        runners[platform.name] = label.strip()
    print(json.dumps(matrix(platforms, runners)))
    return Exit.OK
