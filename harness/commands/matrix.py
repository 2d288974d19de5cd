"""``multiarch-harness matrix``: the platforms to build as a GitHub Actions matrix (JSON on
stdout, for ``fromJSON``): those of ``--platform`` / ``[tool.harness]``, or with
``--platforms-from-base [REF]`` those the base image's index offers (attestation entries
dropped; platforms the table does not know named on stderr and left out)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness.core import options, reference
from harness.core.errors import UsageError
from harness.core.matrix import matrix
from harness.core.outcomes import Exit
from harness.core.platforms import Platform, UnknownPlatform, parse_platforms
from harness.core.reference import parse_reference
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


def main(argv: list[str]) -> int:
    parser = options.argument_parser("matrix", description=__doc__)
    parser.add_argument("--platforms-from-base", nargs="?", const="", default=None,
                        metavar="REF", help="the platforms of the base image's index "
                        "(default REF: the Dockerfile's base)")
    args = parser.parse_args(argv)
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
