"""What one source said about an image, and the platforms that answer fits.

Sources, in the order they are reported:

``config``     the image config's os/architecture/variant
``dpkg``       ``dpkg --print-architecture`` (the userland Debian installed)
``apk``        ``apk --print-arch`` (Alpine's userland; asked where there is no dpkg)
``rpm``        ``rpm --eval %{_arch}`` (an RPM userland; asked where there is no dpkg or apk)
``uname``      ``uname -m`` (the kernel or QEMU the container ran under)
``getconf``    ``getconf LONG_BIT`` (word size of the userland's libc)
``sh-elf``     ELF header of ``/bin/sh``
``rustc``      host triple of ``rustc -vV``
``rustc-elf``  ELF header of the ``rustc`` binary
``cargo``      ``cargo -V``
``hello``      a hello-world crate compiled and run inside the image
``hello-elf``  ELF header of the binary that crate produced
``elf-audit``  every ELF executable and shared object of the image's filesystem
``check:NAME`` a check declared in ``[tool.harness.checks]`` (see harness.core.declared.usercheck)
``pytest:ID``  a user's own pytest check (``--checks DIR``)
``cst:FILE::NAME`` a container-structure-test of ``--structure-tests FILE``
``service:PORT/PATH`` the image's own service, asked over HTTP (``--service-check``)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from harness.core.answers import baseline, module_notes, normalise, parity, sources
from harness.core.answers import details as d
from harness.core.answers import isa as isa_rules
from harness.core.answers.audit import Audit
from harness.core.answers.elf import NotElf, parse_header
from harness.core.answers.isa import Isa
from harness.core.answers.linkage import Linkage
from harness.core.declared import sameness, service, structure_rules
from harness.core.declared.usercheck import DeclaredCheck
from harness.core.failures.diagnosis import clean
from harness.core.jsondoc import JSON
from harness.core.platforms.table import Platform

SOURCES = sources.NAMES  # the built-in sources, in report order (harness.core.answers.sources)

RAW_LIMIT = 4096  # characters of an answer kept in report.json
VALUE_LIMIT = 200  # characters of the mapped value shown in tables and findings

# Sources that say nothing about the platform; they only have to be there and work.
UNMAPPED = {s.name for s in sources.BUILTIN if not s.maps}


@dataclass
class Observation:
    source: str
    raw: str | None  # the answer as given; None when the tool is absent from the image
    fits: tuple[str, ...] = ()  # platforms the answer is consistent with
    value: str | None = None  # the part of the answer that was mapped (a triple, a machine)
    error: str | None = None  # why there is no answer (timeout, engine gone, tool broken)
    detail: JSON = field(default_factory=dict)  # a source's record (harness.core.answers.details)
    kind: str | None = None  # the finding kind ``error`` calls for (None: "error")
    fix: str | None = None  # what to do about ``error``
    cause: str | None = None  # the cause of ``error`` the diagnosis decided (Finding.cause)
    # The whole answer (up to the probes' output cap), for judging in the process that probed;
    # never serialised: report.json keeps the bounded ``raw``.
    output: str | None = field(default=None, repr=False, compare=False)
    # What a structure test or service check saw, typed, for the judging step of the process
    # that asked (harness.core.judging.verdicts), which records its outcome above; never serialised.
    answer: structure_rules.Seen | service.Seen | None = field(default=None, repr=False,
                                                              compare=False)

    def __post_init__(self) -> None:
        # An image decides what its tools print: keep a bounded answer in the reports (the
        # whole one is in the probe log), and a value that is safe on a terminal.
        if self.output is None and self.raw is not None and len(self.raw) > RAW_LIMIT:
            self.output = self.raw
        if self.raw is not None and len(self.raw) > RAW_LIMIT:
            keep = RAW_LIMIT - 64
            marker = f"... [{len(self.raw) - keep} more characters in the probe log]"
            self.raw = self.raw[:keep] + marker
        if self.value is not None:
            self.value = clean(self.value, VALUE_LIMIT)

    @property
    def absent(self) -> bool:
        """Nothing to ask in this image (a tool it lacks); never a source that does not apply
        to the platform (:func:`not_applicable`)."""
        return self.raw is None and self.error is None and not self.inapplicable and \
            self.answer is None

    @property
    def inapplicable(self) -> bool:
        return self.kind == NOT_APPLICABLE

    @property
    def whole(self) -> str:
        """The whole answer, as far as it was read ("" when there is none)."""
        return self.output if self.output is not None else self.raw or ""

    def to_dict(self) -> JSON:
        data = asdict(replace(self, answer=None))
        del data["output"], data["answer"]
        if data["cause"] is None:  # optional in report.json: older reports have none
            del data["cause"]
        return data

    @classmethod
    def from_dict(cls, data: JSON) -> Observation:
        return cls(**{**data, "fits": tuple(data.get("fits", ()))})


def absent(source: str) -> Observation:
    return Observation(source, None)


NOT_APPLICABLE = "not-applicable"  # harness.core.outcomes.Kind.NOT_APPLICABLE's value
# The built-in sources that apply to some platforms only: whether one applies, and why not.
# The one place that says so: the probes ask only what applies here, and report the rest.
_APPLIES: dict[str, tuple[Callable[[Platform], bool], str]] = {
    "isa": (isa_rules.applies, "the CPU-level audit judges the ARM build attributes of "
            "arm/v5, v6 and v7 and the x86-64 ISA levels of amd64; {platform} promises "
            "neither"),
    "baseline-cpu": (lambda p: p.name in baseline.CPUS, "the baseline-CPU run knows no QEMU "
                     "model of the oldest CPU of {platform}"),
}


def applies(source: str, platform: Platform) -> bool:
    rule = _APPLIES.get(source)
    return rule is None or rule[0](platform)


def not_applicable(platform: Platform) -> list[Observation]:
    """An observation for each built-in source that does not apply to ``platform``: no
    answer is missing there (``absent`` is False), and the reason is in ``detail``."""
    return [Observation(name, None, kind=NOT_APPLICABLE, detail=d.NotApplicable(
        f"not applicable to {platform.name}: {why.format(platform=platform.name)}").to_json())
        for name, (applies_to, why) in _APPLIES.items() if not applies_to(platform)]


def failed(source: str, error: str, kind: str | None = None, fix: str | None = None,
           cause: str | None = None) -> Observation:
    """No answer from ``source``: ``kind`` says whose fault, ``cause`` why (the diagnosis
    table's name, see harness.core.failures.diagnosis)."""
    return Observation(source, None, error=error, kind=kind, fix=fix, cause=cause)


def config(os: str, architecture: str, variant: str | None) -> Observation:
    raw = "/".join(x for x in (os, architecture, variant) if x)
    return Observation("config", raw, normalise.from_config(os, architecture, variant), raw)


def _word(source: str, fits: Callable[[str], tuple[str, ...]]) -> Callable[[str], Observation]:
    """The observation of a tool that answers with one word (``armhf``, ``aarch64``, ``32``)."""

    def make(answer: str) -> Observation:
        value = answer.strip()
        return Observation(source, answer, fits(value), value)

    return make


dpkg = _word("dpkg", normalise.from_dpkg)
apk = _word("apk", normalise.from_apk)
rpm = _word("rpm", normalise.from_rpm)
uname = _word("uname", normalise.from_uname)
getconf = _word("getconf", normalise.from_long_bit)


def rustc(answer: str) -> Observation:
    triple = normalise.rustc_host(answer)
    fits = normalise.from_rust_triple(triple) if triple else ()
    return Observation("rustc", answer, fits, triple,
                       detail={"release": normalise.rustc_release(answer)})


def cargo(answer: str) -> Observation:
    return Observation("cargo", answer, (), answer.strip())


# How each command source's answer is read, by source (its command is in
# harness.core.answers.sources): a new command source is its entry there and its reader here.
READERS: dict[str, Callable[[str], Observation]] = {
    "dpkg": dpkg, "apk": apk, "rpm": rpm, "uname": uname, "getconf": getconf,
    "rustc": rustc, "cargo": cargo,
}


def hello(output: str, ok: bool) -> Observation:
    """``ok``: the crate compiled and its program ran and printed its greeting."""
    return Observation("hello", output, (), "ran" if ok else "failed")


def elf(source: str, header: bytes, path: str) -> Observation:
    try:
        ident = parse_header(header)
    except NotElf as exc:
        return Observation(source, f"{path}: {exc}", (), None, detail={"path": path})
    return Observation(source, f"{path}: {ident.describe()}", normalise.from_elf(ident),
                       ident.describe(), detail={"path": path, "machine": ident.machine,
                                                 "bits": ident.bits, "flags": ident.flags})


def elf_audit(platform_name: str, result: Audit, seconds: float) -> Observation:
    """The audit of every ELF file: it fits the platform when none is foreign."""
    return Observation("elf-audit", result.summary(),
                       (platform_name,) if result.count == 0 else (), result.summary(),
                       detail=d.AuditDetail(
                           result.files, result.count, result.allowed, seconds,
                           tuple(map(str, result.foreign)), tuple(map(str, result.malformed)),
                           result.malformed_count, tuple(map(str, result.internal)),
                           result.internal_count).to_json())


def linkage(result: Linkage) -> Observation:
    """Whether every dynamically linked program can start (see harness.core.answers.linkage)."""
    return Observation("linkage", result.summary(), (), result.summary(),
                       detail=d.LinkageDetail(
                           result.programs, result.broken_count, tuple(result.broken),
                           result.libraries_unmet_count, tuple(result.libraries_unmet),
                           result.unreadable, tuple(result.exhausted)).to_json())


def packages(manager: str, output: str, marks: str | None = None) -> Observation:
    """The package database's listing (compared across platforms, see harness.core.answers.parity);
    ``marks``: the userland's file of what was installed by hand, as read (None: there is
    none), so that ``manual`` lists those packages (None: no marks, everything compared)."""
    found = parity.parse(manager, output)
    manual = parity.manual(manager, found, marks)
    text = f"{len(found)} packages ({manager})"
    return Observation("packages", text, (), text,
                       detail=d.PackagesDetail(manager, found,
                                               parity.architectures(manager, output),
                                               None if manual is None else tuple(manual)
                                               ).to_json())


def baseline_cpu(cpu: str, about: str, ran: list[tuple[str, int, bool]],
                 uname: str | None) -> Observation:
    """The commands asked again on the platform's baseline CPU: (command, status, whether
    it died by an illegal instruction), and what ``uname -m`` said there."""
    illegal = [command for command, _status, bad in ran if bad]
    text = (f"{len(ran)} commands on {cpu}: " + (f"{len(illegal)} died by an illegal "
            "instruction" if illegal else "all ran"))
    return Observation("baseline-cpu", text, (), text,
                       detail=d.BaselineDetail(cpu, about, uname,
                                               tuple(d.Ran(c, s, b) for c, s, b in ran),
                                               tuple(illegal)).to_json())


def isa(result: Isa) -> Observation:
    """Whether any file needs a later CPU than the platform's (see harness.core.answers.isa)."""
    return Observation("isa", result.summary(), (), result.summary(),
                       detail=d.IsaDetail(result.files, result.count, tuple(result.needs),
                                          tuple(result.libraries), result.seen).to_json())


def native_modules(data: module_notes.NativeModules) -> Observation:
    """The image's native modules as loaded (see harness.core.answers.module_notes.detail), or
    why they were not (``data.mode`` "off")."""
    text = module_notes.summary(data) if data.mode != "off" else \
        'not loaded: native-modules = "off"'
    return Observation("native-modules", text, (), text, detail=data.to_json())


def declared(check: DeclaredCheck, output: str, platform: Platform | None = None
             ) -> Observation:
    """What a declared check's command printed (it exited with the status expected); the
    pattern is kept with it, so the judgement needs nothing else; with ``same = true``, the
    answer to compare with the other platforms' (see harness.core.declared.sameness). (The probe
    adds
    ``dropped_bytes`` when the command printed more than it reads.)"""
    first = next((line for line in output[:RAW_LIMIT].splitlines() if line.strip()), "")
    same = sameness.Answer.of(output, platform) if check.same and platform is not None \
        else None
    return Observation(check.source, output, (), first.strip(),
                       detail=d.DeclaredDetail(check.shown, check.expect, same).to_json(),
                       output=output)


def answered(source: str, seen: structure_rules.Seen | service.Seen) -> Observation:
    """What the engine side saw of a structure test or a service check, not judged yet: the
    judging step records its outcome (:func:`test_outcome`) in it."""
    return Observation(source, None, (), None, answer=seen)


def test_outcome(source: str, kind: str, errors: list[str], **detail: Any) -> Observation:
    """The outcome of a test the harness ran and judged (a container-structure-test, a
    service check), as the reports keep it: passed, or its errors, each bounded."""
    kept = [clean(e, VALUE_LIMIT * 4) for e in errors[:20]]
    return Observation(source, "\n".join(kept) if kept else "passed", (),
                       "failed" if errors else "passed",
                       detail={"test": kind, "errors": kept, "error_count": len(errors),
                               **detail})


def user_test(source: str, passed: bool, message: str, kind: str | None = None,
              fix: str | None = None, cause: str | None = None) -> Observation:
    """The outcome of a user's pytest check; its failure message, bounded and escaped, and
    the finding kind and fix the failure calls for (None: the check's own mismatch)."""
    return Observation(source, clean(message, RAW_LIMIT), (), "passed" if passed else "failed",
                       kind=kind, fix=fix, cause=cause)
