"""The typed detail of each source that has structured detail, and its one reading back.

An observation's ``detail`` is the JSON report.json keeps (``Observation.detail``): each
record here is written into it by its constructor in harness.core.answers.observation
(:meth:`to_json`, the keys in report.json's order) and read back from it here only
(:meth:`of`), whether the detail was just made, kept from an earlier run or read from a
report handed in. Reading back is forgiving as the readers were: a key that is missing or
of another type gives the field's empty value, never an exception (a report is data).

The engine side adds to a detail after it is made (the probe's span, :class:`Timing`; the
build steps that brought the files a finding names; the audit's unowned files): those keys
are read back here too, as the fields after the constructor's. (native-modules' record is
harness.core.answers.module_notes.NativeModules, with the findings it is judged by.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.core.answers.module_notes import NativeModules
from harness.core.answers.origins import Step
from harness.core.declared import sameness
from harness.core.jsondoc import JSON


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _text(value: Any, default: str = "") -> str:
    return default if value is None else str(value)


def _steps(detail: Mapping[str, Any]) -> tuple[Step, ...]:
    """The build steps that brought the files a detail lists (harness.containers.image_layers
    adds them; see harness.core.answers.origins)."""
    given = detail.get("steps")
    return tuple(Step.from_dict(s) for s in given if isinstance(s, dict)) \
        if isinstance(given, list) else ()


def _texts_of(value: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


@dataclass(frozen=True)
class NotApplicable:
    """Why a built-in source does not apply to the platform."""

    reason: str

    def to_json(self) -> JSON:
        return {"reason": self.reason}

    @classmethod
    def of(cls, detail: Mapping[str, Any]) -> NotApplicable:
        return cls(_text(detail.get("reason")))


@dataclass(frozen=True)
class AuditDetail:
    """``elf-audit``: the ELF files read, and those of another platform, malformed, or whose
    reading failed (each list its first ones, each count all)."""

    files: int = 0
    count: int = 0
    allowed: int = 0
    seconds: float = 0.0
    foreign: tuple[str, ...] = ()
    malformed: tuple[str, ...] = ()
    malformed_count: int = 0
    internal: tuple[str, ...] = ()
    internal_count: int = 0
    # Added by the audit pass (harness.containers.audit_pass): the ELF files no package owns
    # (None: not known, ``unowned_error`` says why), and by image_layers the files' steps.
    unowned: tuple[str, ...] | None = None
    unowned_count: int = 0
    unowned_error: str = ""
    steps: tuple[Step, ...] = ()

    def to_json(self) -> JSON:
        return {"files": self.files, "count": self.count, "allowed": self.allowed,
                "seconds": round(self.seconds, 2), "foreign": list(self.foreign),
                "malformed": list(self.malformed), "malformed_count": self.malformed_count,
                "internal": list(self.internal), "internal_count": self.internal_count}

    @classmethod
    def of(cls, detail: Mapping[str, Any]) -> AuditDetail:
        seconds = detail.get("seconds")
        return cls(_int(detail.get("files")), _int(detail.get("count")),
                   _int(detail.get("allowed")),
                   float(seconds) if isinstance(seconds, int | float) else 0.0,
                   _texts(detail.get("foreign")), _texts(detail.get("malformed")),
                   _int(detail.get("malformed_count")), _texts(detail.get("internal")),
                   _int(detail.get("internal_count")),
                   _texts(detail["unowned"]) if "unowned" in detail else None,
                   _int(detail.get("unowned_count")), _text(detail.get("unowned_error")),
                   _steps(detail))


@dataclass(frozen=True)
class LinkageDetail:
    """``linkage``: the programs judged, those that cannot start, the libraries whose own
    needs are unmet, and the budgets the audit stopped at."""

    programs: int = 0
    count: int = 0
    broken: tuple[str, ...] = ()
    libraries_unmet_count: int = 0
    libraries_unmet: tuple[str, ...] = ()
    unreadable: int = 0
    exhausted: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()

    def to_json(self) -> JSON:
        return {"programs": self.programs, "count": self.count, "broken": list(self.broken),
                "libraries_unmet_count": self.libraries_unmet_count,
                "libraries_unmet": list(self.libraries_unmet), "unreadable": self.unreadable,
                "exhausted": list(self.exhausted)}

    @classmethod
    def of(cls, detail: Mapping[str, Any]) -> LinkageDetail:
        return cls(_int(detail.get("programs")), _int(detail.get("count")),
                   _texts(detail.get("broken")), _int(detail.get("libraries_unmet_count")),
                   _texts(detail.get("libraries_unmet")), _int(detail.get("unreadable")),
                   _texts(detail.get("exhausted")), _steps(detail))


@dataclass(frozen=True)
class IsaDetail:
    """``isa``: the files whose CPU attributes were read, those that need more than the
    platform offers (programs judged, libraries only listed), and the levels seen."""

    files: int = 0
    count: int = 0
    needs: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()
    seen: Mapping[str, int] | None = None
    steps: tuple[Step, ...] = ()

    def to_json(self) -> JSON:
        return {"files": self.files, "count": self.count, "needs": list(self.needs),
                "libraries": list(self.libraries), "seen": dict(self.seen or {})}

    @classmethod
    def of(cls, detail: Mapping[str, Any]) -> IsaDetail:
        seen = detail.get("seen")
        return cls(_int(detail.get("files")), _int(detail.get("count")),
                   _texts(detail.get("needs")), _texts(detail.get("libraries")),
                   {str(k): _int(v) for k, v in seen.items()} if isinstance(seen, dict)
                   else {}, _steps(detail))


@dataclass(frozen=True)
class Ran:
    """One command asked again on the baseline CPU: its status, and whether it died by an
    illegal instruction."""

    command: str
    status: int
    illegal: bool


@dataclass(frozen=True)
class BaselineDetail:
    """``baseline-cpu``: the CPU model, what it is, ``uname -m`` there, and each command."""

    cpu: str = "?"
    about: str = ""
    uname: str | None = None
    ran: tuple[Ran, ...] = ()
    illegal: tuple[str, ...] = ()

    def to_json(self) -> JSON:
        return {"cpu": self.cpu, "about": self.about, "uname": self.uname,
                "ran": [{"command": r.command, "status": r.status, "illegal": r.illegal}
                        for r in self.ran], "illegal": list(self.illegal)}

    @classmethod
    def of(cls, detail: Mapping[str, Any]) -> BaselineDetail:
        ran = detail.get("ran")
        uname = detail.get("uname")
        return cls(_text(detail.get("cpu"), "?"), _text(detail.get("about")),
                   None if uname is None else str(uname),
                   tuple(Ran(_text(r.get("command")), _int(r.get("status")),
                             bool(r.get("illegal"))) for r in ran if isinstance(r, dict))
                   if isinstance(ran, list) else (), _texts(detail.get("illegal")))


@dataclass(frozen=True)
class PackagesDetail:
    """``packages``: the package database's listing (name -> version), each package's
    architecture, and those installed by hand (None: no marks, everything compared)."""

    manager: str = ""
    packages: Mapping[str, str] | None = None
    architectures: Mapping[str, str] | None = None
    manual: tuple[str, ...] | None = None
    # Added by the probe (harness.containers.questions): where the marks were read (None:
    # there are none), and the distribution's name for purls, where one is known.
    marks: str | None = None
    distro: str | None = None

    def to_json(self) -> JSON:
        return {"manager": self.manager, "packages": dict(self.packages or {}),
                "architectures": dict(self.architectures or {}),
                "manual": None if self.manual is None else list(self.manual)}

    @classmethod
    def of(cls, detail: Mapping[str, Any]) -> PackagesDetail:
        manual, marks, distro = detail.get("manual"), detail.get("marks"), detail.get("distro")
        return cls(_text(detail.get("manager")), _texts_of(detail.get("packages")),
                   _texts_of(detail.get("architectures")),
                   _texts(manual) if isinstance(manual, list) else None,
                   None if marks is None else str(marks), None if distro is None else str(distro))


@dataclass(frozen=True)
class DeclaredDetail:
    """``check:NAME``: the command as shown, the pattern its output must match, and with
    ``same = true`` the answer to compare with the other platforms'. (The probe adds
    ``dropped_bytes`` where the command printed more than it reads.)"""

    command: str | None = None
    expect: str = ""
    same: sameness.Answer | None = None
    dropped_bytes: int = 0
    compared: bool = False  # ``same = true``: compared across the platforms, answered or not

    def to_json(self) -> JSON:
        data: JSON = {"command": self.command, "expect": self.expect}
        if self.same is not None:
            data["same"] = {"digest": self.same.digest, "shown": self.same.shown}
        return data

    @classmethod
    def of(cls, detail: Mapping[str, Any]) -> DeclaredDetail:
        same = detail.get("same")
        command = detail.get("command")
        return cls(None if command is None else str(command), _text(detail.get("expect")),
                   sameness.Answer(_text(same.get("digest")), _text(same.get("shown")))
                   if isinstance(same, dict) else None, _int(detail.get("dropped_bytes")),
                   "same" in detail)


@dataclass(frozen=True)
class Timing:
    """When a timed part of a probe started (wall clock), how long it took (rounded as
    report.json shows it), and where its answer was read (``"kept"``: from a run before, see
    harness.machine.kept); stamped into any source's detail by the probe."""

    seconds: float | None = None
    started: float | None = None
    read: str | None = None

    def stamp(self, detail: JSON) -> None:
        """Into ``detail``, after what its source wrote (a key it has keeps its place)."""
        detail["seconds"] = self.seconds
        detail["started"] = self.started
        if self.read is not None:
            detail["read"] = self.read

    @classmethod
    def of(cls, detail: Mapping[str, Any]) -> Timing:
        seconds, started, read = detail.get("seconds"), detail.get("started"), detail.get("read")
        return cls(float(seconds) if isinstance(seconds, int | float) else None,
                   float(started) if isinstance(started, int | float) else None,
                   None if read is None else str(read))


def files_named(source: str, detail: Mapping[str, Any]) -> tuple[str, ...]:
    """The items a source's findings name files by, each starting with the file's path (the
    build step that brought each is looked up for them, harness.containers.image_layers): a
    source that lists files adds its line here. native-modules names the modules that fail
    (not its warnings: they never fail a run)."""
    if source == "elf-audit":
        return AuditDetail.of(detail).foreign
    if source == "linkage":
        return LinkageDetail.of(detail).broken
    if source == "isa":
        return IsaDetail.of(detail).needs
    if source == "native-modules":
        loads = NativeModules.of(detail)
        return tuple(o.module.path for o in (*loads.cannot_load, *loads.needs_later,
                                             *loads.raised_then_illegal))
    return ()
