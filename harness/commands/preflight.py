"""Can this machine build and check the requested platforms? Say so before building anything.

Reports the engine (version, API), the builder that will be used, the host architecture and,
per platform, whether it runs natively, under a registered QEMU handler (version, flags) or
not at all, with the fix. Each capability is proved by using it (``harness.machine.proofs``):
a binary of every platform is run, a base that is not cached is bootstrapped in simulation,
the engine's bridge is looked up. As root on Debian/Ubuntu it first sets up what is missing.
"""

from __future__ import annotations

import argparse
import json
import platform as host_platform
import shutil
import sys
from pathlib import Path

from harness.containers import bases, engine
from harness.containers.build import resolve
from harness.core.failures.errors import HarnessError
from harness.core.jsondoc import JSON
from harness.core.outcomes import Exit
from harness.core.platforms.engine_kind import classic_only
from harness.core.platforms.table import Platform
from harness.core.settings import options
from harness.core.sinks import redact, terminal
from harness.machine import config as harness_config
from harness.machine import debian, podman, proofs, provision
from harness.machine.config import HarnessConfig
from harness.machine.host import read_handlers, run_mode


def survey(cfg: HarnessConfig) -> JSON:
    """What the machine offers, proved; raises :class:`EngineUnavailable` without an engine."""
    c = engine.client(timeout=30)
    facts = engine.facts(c)
    base = _base_to_prove(cfg)
    missing = [p for p in cfg.platforms
               if base is None or not engine.image_exists(c, bases.local_tag(cfg.base_image, p))]
    proved = proofs.prove_platforms(cfg.platforms, base, bootstrap=missing)
    others = {url: _other_engine(url) for url in sorted(set(cfg.engines.values()))}
    rows = []
    for p in cfg.platforms:
        url = cfg.engines.get(p.name)
        other = others.get(url) if url else None
        if other is not None and other.get("problem"):
            rows.append({"platform": p.name, "kind": "unavailable", "describe": "CANNOT RUN",
                         "proofs": [], "problem": other["problem"], "fix": other["fix"],
                         "engine": other["url"]})
            continue
        arch = other["arch"] if other else facts.arch
        name = other.get("name", "") if other else facts.name
        mode = engine.run_mode_on(p, arch, url, name)
        failed = [pr for pr in proved[p.name] if not pr.ok and pr.diagnosis]
        fix = engine.cannot_run(p, arch, url, name).fix if not mode.can_run else (
            failed[0].diagnosis.fix if failed and failed[0].diagnosis else None)
        rows.append({"platform": p.name, **mode.to_dict(), "describe": mode.describe(),
                     "proofs": [pr.to_dict() for pr in proved[p.name]],
                     "problem": failed[0].diagnosis.message if failed and failed[0].diagnosis
                     else None, "fix": fix, "engine": other["url"] if other else None})
    bridge = proofs.bridge_exists(engine.local_bridge(c))
    chosen = resolve(cfg.builder, facts.buildx)
    return {"engine": facts.to_dict(), "builder": chosen, "platforms": rows,
            "engines": list(others.values()),
            "bridge": bridge.to_dict(), "mmdebstrap": shutil.which("mmdebstrap") is not None}


def _other_engine(url: str) -> JSON:
    """A platform's own engine (--engine): its URL without credentials, version and
    architecture, or why it does not answer."""
    try:
        c = engine.client(timeout=30, url=url)
        try:
            facts = engine.facts(c)
        finally:
            c.close()
    except HarnessError as exc:
        return {"url": redact(url), "problem": exc.message, "fix": exc.fix}
    return {"url": redact(url), "version": facts.version, "arch": facts.arch,
            "name": facts.name, "kind": facts.kind, "classic_only": classic_only(facts.kind)}


def _base_to_prove(cfg: HarnessConfig) -> tuple[str, str] | None:
    """(suite, mirror) when the build will bootstrap Debian bases; None otherwise."""
    suite = debian.debian_suite(cfg.base_image)
    mirror = cfg.mirror or debian.debian_mirror()
    if not cfg.takes_base_arg or suite is None or not mirror:
        return None
    return suite, mirror


def render(s: JSON) -> list[str]:
    e = s["engine"]
    lines = [
        f"engine    {e.get('kind', 'Docker')} {terminal(str(e['version']))} (API "
        f"{terminal(str(e['api_version']))}) on {e['arch']}",
        "builder   " + (f"BuildKit through buildx {e['buildx']}" if s["builder"] == "buildx"
                        else "classic builder through the docker SDK"),
        "bases     " + ("pulled, or made with mmdebstrap when no registry answers"
                        if s["mmdebstrap"] else "pulled only (no mmdebstrap)"),
    ]
    for other in s.get("engines", []):
        lines.append(f"engine    {other['url']}: " + (
            f"{other.get('kind', 'Docker')} {other['version']} on {other['arch']}"
            if not other.get("problem")
            else "DOES NOT ANSWER"))
    bridge = s.get("bridge") or {}
    if not bridge.get("ok", True):
        lines += [f"bridge    MISSING: {bridge['message']}", f"    fix: {bridge['fix']}"]
    for row in s["platforms"]:
        state = row["describe"] if row["kind"] != "unavailable" else "CANNOT RUN"
        proved = ", ".join(pr["what"] for pr in row.get("proofs", []) if pr["ok"])
        where = f"  on {row['engine']}" if row.get("engine") else ""
        lines.append(f"  {row['platform']:<14} {state}{where}" + (f"  (proved: {proved})"
                                                                   if proved else ""))
        # An engine's or the SDK's words: data, shown as such (sinks.terminal).
        if row.get("problem"):
            lines.append(f"    {terminal(row['problem'])}")
        if row["fix"]:
            lines.append(f"    fix: {terminal(row['fix'])}")
    classic = {o["url"]: o.get("kind", "") for o in s.get("engines", []) if o.get("classic_only")}
    for row in s["platforms"]:
        # Said once, before the run builds anything. Buildah (Podman 4.3) takes RUN --mount
        # cache mounts, but not BuildKit's heredocs, COPY --link or RUN --network (measured).
        if row.get("engine") in classic:
            lines.append(f"{row['platform']} on {classic[row['engine']]}: classic build by "
                         "Podman's Buildah, no BuildKit")
    return lines


def here(cfg: HarnessConfig) -> list[Platform]:
    """The platforms whose engine is on this machine: only they need anything set up here."""
    return [p for p in cfg.platforms if engine.on_this_host(cfg.engines.get(p.name))]


def needs_setup(cfg: HarnessConfig) -> bool:
    local = here(cfg)
    if not local:
        return False  # every engine is elsewhere: this machine is not touched
    if not provision.engine_answers() or provision.missing_packages():
        return True
    handlers = read_handlers()
    arch = host_platform.machine()
    return any(not run_mode(p, arch, handlers).can_run for p in local)


def podman_service(cfg: HarnessConfig, setup: bool) -> bool:
    """``--engine podman``: Debian's podman installed where missing (as root on Debian), its
    API service started where it does not answer; whether it was started here."""
    if not podman.wanted(cfg.engines):
        return False
    if setup and provision.can_provision() and provision.missing_podman():
        print("preflight: installing Debian's podman (--engine podman)", flush=True)
        provision.install_podman(say=lambda line: print(f"  {line}", flush=True))
    if not setup and not podman.answers():
        return False  # reported as an engine that does not answer
    return podman.start(say=lambda line: print(f"preflight: {line}", flush=True))


def main(argv: list[str] | None = None, keep_services: bool = False) -> int:
    """``keep_services``: what is started for the run (Podman's service) stays up for the
    pytest run that follows, which stops it (harness.plugin); alone, preflight stops what it
    started itself."""
    parser = options.argument_parser("preflight", description=__doc__)
    parser.add_argument("--no-setup", action="store_true",
                        help="never install or start anything, only report")
    parser.add_argument("--json", action="store_true", help="print the survey as JSON")
    parser.add_argument("--partial-ok", action="store_true",
                        help="exit 0 when some platforms cannot run (the build reports them)")
    args, _unknown = parser.parse_known_args(argv)  # build options pass through untouched
    cfg = harness_config.load(Path.cwd(), **options.given(args, "preflight"))
    engine.select_context(cfg.docker_context)
    if not args.no_setup and not here(cfg):
        print("preflight: every platform's engine is elsewhere: nothing is set up on this "
              "machine", flush=True)
    elif not args.no_setup and needs_setup(cfg) and provision.can_provision():
        print("preflight: setting up the engine, QEMU handlers and tools", flush=True)
        provision.provision(say=lambda line: print(f"  {line}", flush=True))
    try:
        started = podman_service(cfg, not args.no_setup)
    except HarnessError as exc:
        print(f"preflight: {terminal(exc.message)}\n    fix: {terminal(exc.fix)}",
              file=sys.stderr)
        return Exit.CANNOT_CHECK
    try:
        return _report(args, cfg)
    finally:
        if started and not keep_services:
            podman.stop(say=lambda line: print(f"preflight: {line}", flush=True))


def _report(args: argparse.Namespace, cfg: HarnessConfig) -> int:
    """The survey printed; the exit status it gives."""
    found = survey(cfg)
    print(json.dumps(found, indent=2) if args.json else "\n".join(render(found)))
    if not found["bridge"]["ok"]:
        print("preflight: the engine cannot run build steps (its bridge is gone)",
              file=sys.stderr)
        return Exit.CANNOT_CHECK
    if any(row["fix"] for row in found["platforms"]):
        print("preflight: some platforms cannot run here; they are reported as `error`",
              file=sys.stderr)
        return Exit.OK if args.partial_ok else Exit.CANNOT_CHECK
    return Exit.OK
