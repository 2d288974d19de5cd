"""Every verdict, decided here and nowhere else: a platform's (its observations judged into
findings, the user's pytest checks folded in, a stage cut short by an interruption) and the
run's (answers compared across platforms, what an index's attestations said, platforms that
never reported). Every other module hands this one what it saw and reads the verdict back;
``tests/core/test_verdicts.py`` proves that none sets one itself.

The requested platform is the reference. A source that disagrees is either a known, harmless
effect of the host (a quirk: the kernel's or QEMU's name leaking through ``uname -m``) or a
sign that the image is wrong. The rules are pure functions of the platform, the host and the
answers, so they are unit-tested without an engine. Findings are told apart by their
``cause`` and ``kind``, never by their words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from harness.core.answers import details as d
from harness.core.answers import module_notes, origins, sources
from harness.core.answers.observation import UNMAPPED, VALUE_LIMIT, Observation, test_outcome
from harness.core.answers.origins import Step
from harness.core.declared import sameness, service, structure, structure_rules, usercheck
from harness.core.failures.diagnosis import INTERRUPTED_FIX, clean
from harness.core.failures.errors import UsageError
from harness.core.jsondoc import JSON
from harness.core.outcomes import Exit, Kind, RunKind, RunMode, Verdict, exit_status, worst
from harness.core.platforms.table import Platform
from harness.core.results.finding import Finding
from harness.core.results.platform_result import PlatformResult
from harness.core.sinks import bound

USER_TEST = "pytest:"  # a user's pytest check's source: pytest:FILE::TEST

__all__ = ["Judgement", "judge", "verdict_of", "worst"]


@dataclass
class Judgement:
    verdict: Verdict
    findings: list[Finding] = field(default_factory=list)

    def for_source(self, source: str) -> list[Finding]:
        return [f for f in self.findings if f.source == source]

    def to_dict(self) -> JSON:
        return {"verdict": self.verdict, "findings": [f.to_dict() for f in self.findings]}


def verdict_of(kinds: Iterable[str]) -> Verdict:
    """The verdict the kinds of a platform's findings make: the worst of theirs. Every
    verdict is judged by it (a run's, and a merged report's, where the verdict a report
    claims is never believed over what it found; see PlatformResult.kinds)."""
    return worst(Kind(k).verdict for k in kinds)


def quirk_unames(platform: Platform, host_arch: str, mode: RunMode) -> tuple[str, ...]:
    """What ``uname -m`` may say, beyond the platform's own names, for a known harmless
    reason of this host (see :func:`uname_quirk`)."""
    if mode.kind is RunKind.NATIVE and platform.bits == 32 and \
            _kernel_name(host_arch) in ("x86_64", "aarch64"):
        return (_kernel_name(host_arch),)
    if mode.kind is RunKind.QEMU and platform.architecture == "arm" and platform.variant != "v7":
        return ("armv7l",)
    return ()


def uname_quirk(platform: Platform, answer: str, host_arch: str, mode: RunMode) -> Finding | None:
    """A known, harmless reason for ``uname -m`` to disagree with the platform, if one applies."""
    if answer not in quirk_unames(platform, host_arch, mode):
        return None
    if mode.kind is RunKind.NATIVE:
        return Finding(
            "uname", Kind.QUIRK,
            f"uname -m says {answer} for {platform.name}: the container ran natively on the "
            f"{answer} host kernel, and Docker does not set the 32-bit (PER_LINUX32) "
            "personality for 32-bit containers (moby/moby#42732); the userland is "
            f"{platform.dpkg_arch} as it should be",
            "harmless for the image; tools that pick an architecture from `uname -m` "
            "(rustup-init, build scripts) must read `dpkg --print-architecture` instead or run "
            "under `linux32`",
        )
    return Finding(
        "uname", Kind.QUIRK,
        f"uname -m says armv7l for {platform.name}: QEMU's default ARM CPU model "
        "implements ARMv7, so it reports armv7l for every 32-bit ARM image",
        "harmless for the image; set QEMU_CPU (for example arm1176 for v6) to emulate the "
        "exact CPU",
    )


def _kernel_name(host_arch: str) -> str:
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(host_arch, host_arch)


def judge_source(platform: Platform, obs: Observation, host_arch: str, mode: RunMode,
                 required: frozenset[str]) -> list[Finding]:
    """The findings of one source; an empty list when it agrees with the platform."""
    src = obs.source
    if obs.error is not None:
        if obs.kind is None:
            return [Finding(src, Kind.ERROR, f"{src}: the probe could not run: {obs.error}",
                            obs.fix or "see the probe log; rerun once the machine is fixed",
                            cause=obs.cause)]
        return [Finding(src, Kind(obs.kind), obs.error, obs.fix or "", cause=obs.cause)]
    if obs.answer is not None:
        return _answered(platform, obs, obs.answer)
    if src.startswith((structure.PREFIX, service.PREFIX)) and obs.error is None:
        # Read back (a report, kept answers): its outcome was judged where it was asked.
        return [Finding(src, Kind.INTERNAL, f"{src}: no answer to judge", "this is a bug "
                        "of the harness: report it")]
    if obs.inapplicable:  # nothing to check on this platform: said so, never "absent"
        return [Finding(src, Kind.NOT_APPLICABLE, clean(
            d.NotApplicable.of(obs.detail).reason or f"not applicable to {platform.name}",
            500))]
    if obs.absent and src.startswith(usercheck.PREFIX):
        # A declared check is required by being declared: its command must be there.
        return [Finding(src, Kind.MISSING,
                        f"check {src.removeprefix(usercheck.PREFIX)}: the command "
                        f"`{_command(d.DeclaredDetail.of(obs.detail), '?')}` is not in the "
                        "image",
                        "install it in the image, or fix the check's command in "
                        f"[tool.harness.checks.{src.removeprefix(usercheck.PREFIX)}]")]
    if obs.absent:
        known = sources.BY_NAME.get(src)
        what = known.when_absent if known and known.when_absent else \
            f"{src} is not in the image"
        if src in required:
            return [Finding(src, Kind.MISSING, f"{what}, and it is required",
                            "install it in the image, or drop it from `require`")]
        return [Finding(src, Kind.ABSENT, f"{what}; not checked")]
    if src == "hello":
        if obs.value == "ran":
            return []
        return [Finding(src, Kind.MISMATCH,
                        "a hello-world crate did not compile and run: "
                        + _tail(obs.raw or ""),
                        "run `cargo new hello && cargo run` in the image and read the error")]
    if src == "linkage":
        return _linkage(d.LinkageDetail.of(obs.detail))
    if src == "elf-audit":
        return _elf_audit(platform, d.AuditDetail.of(obs.detail))
    if src == "isa":
        return _isa(platform, d.IsaDetail.of(obs.detail))
    if src == "baseline-cpu":
        return _baseline(platform, d.BaselineDetail.of(obs.detail))
    if src == "native-modules":
        return [Finding(src, Kind(n.kind), n.message, n.fix, n.steps)
                for n in module_notes.judge(platform.name, obs.detail)]
    if src in UNMAPPED or platform.name in obs.fits:
        return []
    if src.startswith(usercheck.PREFIX):
        return _declared(platform, obs, quirk_unames(platform, host_arch, mode))
    if src.startswith(USER_TEST):
        return judge_user_test(obs)
    if src == "uname" and obs.value and (q := uname_quirk(platform, obs.value, host_arch, mode)):
        return [q]
    seen = ", ".join(obs.fits) if obs.fits else "no platform in the table"
    known = sources.BY_NAME.get(src)
    return [Finding(src, Kind.MISMATCH,
                    f"{known.says if known and known.says else src} "
                    f"{obs.value or clean(repr(obs.raw), 200)}, which is {seen}, "
                    f"not {platform.name}", known.fix if known else "")]


def _listed(count: int, listed: tuple[str, ...], given: tuple[Step, ...],
            limit: int = 300) -> tuple[int, str, tuple[Step, ...]]:
    """(how many, the first three of ``listed`` shown, their steps) of a whole-image source:
    each item with the build step that brought its file, where it is known (``given``, see
    harness.core.answers.origins); ``count``: how many there are in all."""
    known = {s.path: s for s in given}
    items, steps = [], []
    for item in listed[:3]:
        shown = clean(item, limit)
        path = origins.path_of(item, known)
        if path is not None:
            steps.append(known[path])
            shown += f", from {known[path].label()}"
        items.append(shown)
    return count, "; ".join(items) + ("; ..." if count > 3 else ""), tuple(dict.fromkeys(steps))


def _programs(count: int) -> str:
    return f"{count} program{'s' if count != 1 else ''}"


def _elf_audit(platform: Platform, audit: d.AuditDetail) -> list[Finding]:
    """ELF files of another platform, and files no loader can read (each its own finding:
    one does not hide the other)."""
    found = []
    count, shown, steps = _listed(audit.count, audit.foreign, audit.steps, 200)
    if count:
        found.append(Finding("elf-audit", Kind.MISMATCH,
                             f"{count} ELF file{'s' if count != 1 else ''} in the image "
                             f"{'are' if count != 1 else 'is'} not {platform.name}: {shown}",
                             "build them for the image's platform (in a stage on "
                             "$BUILDPLATFORM, cross-compile for $TARGETPLATFORM), or allow "
                             "expected ones with --allow-foreign GLOB", steps))
    bad, shown, steps = _listed(audit.malformed_count, audit.malformed, audit.steps)
    if bad:
        found.append(Finding("elf-audit", Kind.BROKEN,
                             f"{bad} ELF file{'s' if bad != 1 else ''} in the image "
                             f"{'are' if bad != 1 else 'is'} malformed, and no loader of any "
                             f"machine can read {'them' if bad != 1 else 'it'}: {shown}",
                             "rebuild or replace them (a copy cut short, a stripped or "
                             "patched file gone wrong), or allow expected ones with "
                             "--allow-foreign GLOB", steps))
    failed, shown, _ = _listed(audit.internal_count, audit.internal, audit.steps)
    if failed:  # each file's own: the other files are judged, their fail stays first
        found.append(Finding("elf-audit", Kind.INTERNAL,
                             f"the audit failed on {failed} ELF file{'s' if failed != 1 else ''} "
                             f"(a harness bug), which {'are' if failed != 1 else 'is'} not "
                             f"judged: {shown}",
                             "report it with the file; every other file was judged"))
    return found


def _linkage(linkage: d.LinkageDetail) -> list[Finding]:
    """Programs that cannot start: the image is broken on every machine of the platform."""
    count, shown, steps = _listed(linkage.count, linkage.broken, linkage.steps)
    found = [] if not count else [
        Finding("linkage", Kind.BROKEN, f"{_programs(count)} cannot start: {shown}",
                "put what it needs into the image (COPY the libraries along with the "
                "program, or install the package that has them; for FROM scratch, the "
                "program interpreter too), or link it statically", steps)]
    exhausted = [clean(e, 300) for e in linkage.exhausted][:3]
    if exhausted:  # the harness's limit, not the image's fault: never a pass, never a fail
        found.append(Finding("linkage", Kind.ERROR,
                             "the linkage audit stopped at its budget for one image, and "
                             f"what lies past it is not judged: {'; '.join(exhausted)}",
                             "the budgets (docs/guide/checks.md) are far above what real "
                             "images need: look for what the image holds in such numbers "
                             "(link farms, generated loader files), or report it"))
    return found


def _isa(platform: Platform, isa: d.IsaDetail) -> list[Finding]:
    """Programs that need a later CPU than the platform's: they die (SIGILL) on its oldest
    machines, however well they run under QEMU's default CPU."""
    count, shown, steps = _listed(isa.count, isa.needs, isa.steps)
    if not count:
        return []
    return [Finding("isa", Kind.BROKEN,
                    f"{_programs(count)} need{'s' if count == 1 else ''} a later CPU than "
                    f"{platform.name} offers: {shown}",
                    f"build for the platform's CPU (for {platform.name}, a compiler targeting "
                    "it: -march and the distribution's own toolchain for the variant), or "
                    "publish the image for the later variant instead", steps)]


def _baseline(platform: Platform, ran: d.BaselineDetail) -> list[Finding]:
    """Commands that ran on QEMU's default CPU and die by an illegal instruction on the
    platform's oldest: the image needs more than the platform promises."""
    illegal = [clean(c, 200) for c in ran.illegal]
    if not illegal:
        return []
    cpu, about = ran.cpu, ran.about
    shown = ", ".join(f"`{c}`" for c in illegal[:3]) + (", ..." if len(illegal) > 3 else "")
    return [Finding("baseline-cpu", Kind.BROKEN,
                    f"on {cpu} ({about}), {shown} die{'s' if len(illegal) == 1 else ''} by "
                    f"an illegal instruction: {platform.name} promises that CPU, and QEMU's "
                    "default one has more", "build for the platform's baseline (the "
                    "distribution's toolchain for it, no -march/-mcpu above it, Rust without "
                    "target-cpu=native), or publish for a later variant")]


def judge_user_test(obs: Observation) -> list[Finding]:
    """A user's pytest check: it passed, or its failure is the platform's finding."""
    if obs.value == "passed":
        return []
    return [Finding(obs.source, Kind(obs.kind or Kind.MISMATCH),
                    f"{obs.source.removeprefix(USER_TEST)}: {obs.raw}",
                    obs.fix or "see the test's output in junit.xml and the pytest log",
                    cause=obs.cause)]


def _answered(platform: Platform, obs: Observation,
              seen: structure_rules.Seen | service.Seen) -> list[Finding]:
    """A structure test or a service check, judged from what it saw (in the words of the
    tool it follows), its outcome recorded in ``obs`` for the reports: passed, or its
    errors."""
    src = obs.source
    if isinstance(seen, service.Seen):
        errors = service.judge(seen.check, seen.answer, platform, seen.wait)
        extra: JSON = {} if seen.answer.not_started else {
            "waited": round(seen.answer.waited, 2), "http_status": seen.answer.http_status}
        kind = "service"
        fix = ("fix the image's service (its log is in the probe log), or the check's port, "
               "path, expect, status or timeout (--service-check, [tool.harness.service])")
    else:
        try:
            errors = structure_rules.errors(seen, platform)
        except UsageError as exc:  # an output cut short, a pattern that never finished
            obs.answer, obs.error, obs.kind, obs.fix = None, exc.message, Kind.USAGE, \
                f"{exc.fix}, in {seen.shown}"
            return [Finding(src, Kind.USAGE, obs.error, obs.fix)]
        extra, kind = {}, seen.test.kind
        where = src.removeprefix(structure.PREFIX).partition("::")[0]
        fix = f"fix the image, or the test in {where}"
    record = test_outcome(src, kind, errors, **extra)
    obs.raw, obs.value, obs.detail, obs.output = record.raw, record.value, record.detail, \
        record.output
    if not errors:
        return []
    kept = [clean(e, VALUE_LIMIT * 4) for e in errors[:20]]
    more = len(errors) - len(kept)
    return [Finding(src, Kind.MISMATCH,  # the source names the test
                    "; ".join(kept) + (f"; and {more} more" if more > 0 else ""), fix)]


def _declared(platform: Platform, obs: Observation, quirks: tuple[str, ...]) -> list[Finding]:
    """A declared check: its output matches its pattern for the platform, or only with a name
    a quirk of this host explains (``uname -m`` x86_64 for linux/386 run natively)."""
    check = d.DeclaredDetail.of(obs.detail)
    expect, output, command = check.expect, obs.whole, _command(check)
    name = obs.source.removeprefix(usercheck.PREFIX)
    try:
        # A cut output is judged by no pattern (found or not) and compared with no other
        # platform's (same = true): the rule structure tests follow too.
        usercheck.whole(check.dropped_bytes, (expect, "same" if check.compared else ""),
                        f"check {name}: the output of `{command}`",
                        f"make the command print less (| grep, | tail), in "
                        f"[tool.harness.checks.{name}]")
        if usercheck.matches(expect, platform, output):
            return []
        quirk = bool(quirks) and usercheck.matches(expect, platform, output,
                                                   {"uname": quirks})
    except usercheck.Truncated as exc:
        return [Finding(obs.source, Kind.USAGE, exc.message, exc.fix)]
    except usercheck.PatternTimeout as exc:
        return [Finding(obs.source, Kind.USAGE, f"check {name}: {exc.message}",
                        f"{exc.fix}, in [tool.harness.checks.{name}]")]
    said = clean(repr(obs.value or output[:200].strip()), 200)
    if quirk:
        return [Finding(obs.source, Kind.QUIRK,
                        f"check {name}: `{command}` printed {said}, which "
                        f"matches /{clean(expect, 200)}/ only with uname -m "
                        f"{' or '.join(quirks)}, a known effect of this host",
                        "harmless for the image; see the uname finding")]
    return [Finding(obs.source, Kind.MISMATCH,
                    f"check {name}: `{command}` printed {said}, which does "
                    f"not match /{clean(expect, 200)}/ for {platform.name}",
                    f"fix the image, or the check's expect in [tool.harness.checks.{name}]")]


def judge(platform: Platform, observations: Iterable[Observation], host_arch: str,
          mode: RunMode, required: Iterable[str] = ()) -> Judgement:
    req = frozenset(required)
    by_source = {o.source: o for o in observations}
    findings: list[Finding] = []
    for src in sorted(by_source, key=sources.rank):
        obs = by_source[src]
        # A binary that is absent has no ELF to read: report the tool once, not twice.
        parent = src.removesuffix("-elf")
        if parent != src and parent in by_source and by_source[parent].absent:
            continue
        findings.extend(judge_source(platform, obs, host_arch, mode, req))
    base = by_source.get("baseline-cpu")
    if mode.kind is RunKind.QEMU and base is not None and \
            d.BaselineDetail.of(base.detail).uname in platform.uname:
        # The platform's own CPU model answered with the platform's own name: QEMU's default
        # CPU's answer (armv7l for arm/v6) is no effect the image will ever see.
        findings = [f for f in findings if not (f.source == "uname" and f.kind is Kind.QUIRK)]
    return Judgement(verdict_of(f.kind for f in findings), findings)


def _command(check: d.DeclaredDetail, absent: str = "None") -> str:
    """A declared check's command as its findings show it (``absent``: where none is kept)."""
    return check.command if check.command is not None else absent


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


# -- a platform's verdict ---------------------------------------------------------------------

def settle(result: PlatformResult, findings: Iterable[Finding] | None) -> PlatformResult:
    """``result`` with its findings and the verdict they make; ``None``: judged by nothing
    (built, never checked: the run was cut short), an error without a finding."""
    if findings is None:
        result.verdict = Verdict.ERROR
        return result
    result.findings = list(findings)
    result.verdict = verdict_of(f.kind for f in result.findings)
    return result


def with_user_tests(result: PlatformResult, seen: list[Observation]) -> PlatformResult:
    """The result with the user's pytest checks as sources of their own: a failed one makes
    the platform fail, as a built-in check would."""
    if not seen:
        return result
    result.observations = [*result.observations, *seen]
    for one in seen:
        result.findings.extend(judge_user_test(one))
    result.verdict = worst([result.verdict, *(f.verdict for f in result.findings)])
    return result


def interrupted(stage: str) -> Finding:
    """The finding of a stage cut short by Ctrl-C or a cancel (see was_interrupted)."""
    return Finding(stage, Kind.ERROR, f"the {stage} was interrupted", INTERRUPTED_FIX,
                   cause="interrupted")


def was_interrupted(result: PlatformResult) -> bool:
    """Whether the platform's work was cut short by an interruption: a stage's finding's
    cause says so (never its words), or it was built and never checked."""
    return any(f.interruption for f in result.findings) or (
        result.verdict is Verdict.ERROR and not result.findings)


def unfinished(result: PlatformResult, run_interrupted: bool, came_back: bool = True) -> bool:
    """Whether the platform was cut short by the run's interruption, its finding added where
    it has none: built and never checked, or no result came back at all (``came_back``
    False: a worker crashed, or no test selected it, unless the run was interrupted)."""
    name = result.platform
    if not came_back:
        settle(result, [Finding("harness", Kind.ERROR, f"{name}: the run was interrupted",
                                INTERRUPTED_FIX, cause="interrupted") if run_interrupted else
                        Finding("harness", Kind.ERROR, f"{name}: no result came back (a "
                                "worker crashed, or no test selected it)",
                                "rerun; see the pytest output above", cause="no-result")])
        return run_interrupted
    if not (run_interrupted and was_interrupted(result)):
        return False
    if not result.findings:  # built, never checked
        result.findings.append(Finding("probe", Kind.ERROR, "the run was interrupted before "
                                       "the probes", INTERRUPTED_FIX, cause="interrupted"))
    return True


def no_report(name: str) -> Finding:
    """A merged report's platform whose job wrote no report."""
    return Finding("report", Kind.ERROR, f"no report from the job of {name}: it stopped "
                   "before writing one", "see that job's log and re-run it", cause="no-report")


# -- the run's verdict ------------------------------------------------------------------------

def judge_platforms(results: list[PlatformResult]) -> None:
    """Every platform judged again with the others: the ``same = true`` checks compared
    across them, then each verdict from what it found, as the exit status is (a report read
    back that says pass beside a mismatch is judged, not believed). A Bake target's
    platforms are compared among themselves, never with another target's."""
    for target in dict.fromkeys(r.target for r in results):
        _compare_answers([r for r in results if r.target == target])
    for r in results:
        r.verdict = verdict_of(r.kinds())


def judge_run(results: list[PlatformResult], extra: Iterable[str],
              quirk_policy: str) -> tuple[Verdict, Exit]:
    """The run's verdict and exit status: every platform's kinds, and ``extra`` (an index's
    findings' kinds, which belong to no platform)."""
    kinds = [*(k for r in results for k in r.kinds()), *extra]
    return (verdict_of(kinds) if results else Verdict.ERROR), exit_status(kinds, quirk_policy)


def _compare_answers(results: list[PlatformResult]) -> None:
    """Declared checks with ``same = true``, compared across the platforms (see
    harness.core.declared.sameness): the odd platforms out get a mismatch finding (once, so a merged
    report of reports is judged the same) and their verdicts follow."""
    answers: dict[str, dict[str, sameness.Answer]] = {}
    for r in results:
        for o in r.observations:
            same = d.DeclaredDetail.of(o.detail).same
            if same is not None and o.error is None:
                answers.setdefault(o.source, {})[r.platform] = same
    by_platform = {r.platform: r for r in results}
    for odd in sameness.judge(answers):
        result = by_platform[odd.platform]
        finding = Finding(odd.source, Kind.MISMATCH, odd.message, odd.fix, cause=odd.cause)
        # The same finding read back from a report written before findings had a cause is
        # this one: given its cause, never made twice.
        known = [f for f in result.findings if f == finding or
                 (f.cause is None and replace(f, cause=finding.cause) == finding)]
        for f in known:
            result.findings[result.findings.index(f)] = finding
        if not known:
            result.findings.append(finding)
            result.verdict = verdict_of(result.kinds())


ATTESTED_SHOWN = 120  # characters of a publisher's answer or finding quoted in a finding


def attested(attested: Mapping[str, Mapping[str, Any]],
             now: Mapping[str, PlatformResult]) -> list[Finding]:
    """What a check of a published tag sees, against each platform's verification statement
    (``attested``: platform -> predicate, harness.core.reporting.attest; ``now``: platform ->
    report.json entry): the index's findings.

    An answer that depends on the image alone (not uname -m under QEMU, not a program run)
    must be the same on any machine: a difference means the image under the tag is not the
    one the statement speaks of, or a source reads it differently. A platform its publisher
    judged ``fail`` is wrong whatever this machine sees."""
    found = []
    for platform, then in sorted(attested.items()):
        seen = now.get(platform)
        if seen is None:
            continue
        version = str((then.get("harness") or {}).get("version") or "?")
        if then.get("verdict") == "fail":
            findings = [f for f in then.get("findings") or [] if isinstance(f, Mapping)]
            first = findings[0] if findings else {}
            found.append(Finding(
                "attestation", Kind.MISMATCH,
                f"{platform}: its publisher's run (harness {version}) judged it fail: "
                f"{bound(str(first.get('message') or 'no finding given'), ATTESTED_SHOWN)}",
                "publish only what passed: fix the image, build, check and publish again"))
        observed = seen.observed()
        for source, answer in sorted((then.get("answers") or {}).items()):
            declared = sources.BY_NAME.get(source)
            if declared is None or declared.host_bound or not isinstance(answer, Mapping):
                continue
            mine = observed.get(source)
            old, new = answer.get("value"), mine.value if mine else None
            if old is None or new is None or answer.get("error") or (mine and mine.error):
                continue
            if old != new:
                found.append(Finding(
                    "attestation", Kind.MISMATCH,
                    f"{platform}: {source} answered {bound(str(old), ATTESTED_SHOWN)!r} to "
                    f"its publisher (harness {version}) and "
                    f"{bound(str(new), ATTESTED_SHOWN)!r} here",
                    "the image under this tag is not the one its verification speaks of, "
                    "or the source reads it differently: build, check and publish again"))
    return found
