"""Can this machine build and check the requested platforms? Say so before building anything.

Reports the engine (version, API), the builder that will be used, the host architecture and,
per platform, whether it runs natively, under a registered QEMU handler (version, flags) or
not at all, with the fix. As root on Debian/Ubuntu it first sets up what is missing.
"""

from __future__ import annotations

import argparse
import json
import platform as host_platform
import shutil
import sys
from pathlib import Path
from typing import Any

from harness import config as harness_config
from harness import engine, provision
from harness.build import resolve
from harness.errors import EXIT_CANNOT_CHECK, EXIT_OK, HarnessError
from harness.host import no_handler_fix, read_handlers, run_mode
from harness.platforms import Platform


def survey(platforms: list[Platform], builder: str) -> dict[str, Any]:
    """What the machine offers; raises :class:`EngineUnavailable` when there is no engine."""
    c = engine.client(timeout=30)
    facts = engine.facts(c)
    handlers = read_handlers()
    rows = []
    for p in platforms:
        mode = run_mode(p, facts.arch, handlers)
        rows.append({"platform": p.name, **mode.to_dict(), "describe": mode.describe(),
                     "fix": None if mode.can_run else no_handler_fix(p)})
    chosen = resolve(builder, facts.buildx)
    return {"engine": facts.to_dict(), "builder": chosen, "platforms": rows,
            "mmdebstrap": shutil.which("mmdebstrap") is not None}


def render(s: dict[str, Any]) -> list[str]:
    e = s["engine"]
    lines = [
        f"engine    Docker {e['version']} (API {e['api_version']}) on {e['arch']}",
        "builder   " + (f"BuildKit through buildx {e['buildx']}" if s["builder"] == "buildx"
                        else "classic builder through the docker SDK"),
        "bases     " + ("pulled, or made with mmdebstrap when no registry answers"
                        if s["mmdebstrap"] else "pulled only (no mmdebstrap)"),
    ]
    for row in s["platforms"]:
        state = row["describe"] if row["kind"] != "unavailable" else "CANNOT RUN"
        lines.append(f"  {row['platform']:<14} {state}")
        if row["fix"]:
            lines.append(f"    fix: {row['fix']}")
    return lines


def needs_setup(platforms: list[Platform]) -> bool:
    if not provision.engine_answers() or not shutil.which("mmdebstrap"):
        return True
    handlers = read_handlers()
    arch = host_platform.machine()
    return any(not run_mode(p, arch, handlers).can_run for p in platforms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness preflight", description=__doc__)
    parser.add_argument("--platform", action="append", default=[])
    parser.add_argument("--builder", default=None)
    parser.add_argument("--no-setup", action="store_true",
                        help="never install or start anything, only report")
    parser.add_argument("--json", action="store_true", help="print the survey as JSON")
    parser.add_argument("--partial-ok", action="store_true",
                        help="exit 0 when some platforms cannot run (the build reports them)")
    args, _unknown = parser.parse_known_args(argv)  # build options pass through untouched
    try:
        cfg = harness_config.load(Path.cwd(), platforms=args.platform, builder=args.builder)
        if not args.no_setup and needs_setup(cfg.platforms) and provision.can_provision():
            print("preflight: setting up the engine, QEMU handlers and tools", flush=True)
            provision.provision(say=lambda line: print(f"  {line}", flush=True))
        found = survey(cfg.platforms, cfg.builder)
    except HarnessError as exc:
        print(f"preflight: {exc}", file=sys.stderr)
        return exc.exit_status
    print(json.dumps(found, indent=2) if args.json else "\n".join(render(found)))
    if any(row["fix"] for row in found["platforms"]):
        print("preflight: some platforms cannot run here; they are reported as `error`",
              file=sys.stderr)
        return EXIT_OK if args.partial_ok else EXIT_CANNOT_CHECK
    return EXIT_OK
