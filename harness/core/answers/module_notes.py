"""The ``native-modules`` source's detail and findings, judged from each module's loads
(harness.core.answers.module_loaders): a module that cannot load on the platform, or loads there and
dies by an illegal instruction (or raises) on the baseline CPU, is ``fail`` ("needs a later
CPU", with the lowest later level it loads on); one whose import raises an ordinary
exception on both CPUs (it wants a display, a config file, a running service) is no fault of
the image's CPU: a warning that never fails the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from harness.core.answers import baseline
from harness.core.answers.extensions import Module
from harness.core.answers.module_loaders import MESSAGE_LIMIT, UNASKED, UNTRIED, Load
from harness.core.answers.origins import Step
from harness.core.failures.diagnosis import clean
from harness.core.jsondoc import JSON

LISTED = 200  # modules kept in the report by outcome (the counts are always whole)
SHOWN = 20  # modules named in a finding (and so its JUnit case), then how many more


@dataclass
class Outcome:
    """One module's loads: on the platform, on its baseline CPU, and the lowest later level
    it loads on ("" where none was tried, "none" where it loads on none)."""

    module: Module
    platform: Load
    baseline: Load | None = None
    level: str = ""

    def to_dict(self) -> JSON:
        return {**asdict(self.module), "platform": asdict(self.platform),
                "baseline": asdict(self.baseline) if self.baseline else None,
                "level": self.level}

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Outcome:
        """An outcome as :meth:`to_dict` wrote it (a report's: each field its type)."""
        given = {f.name: _text(item[f.name]) for f in fields(Module) if f.name in item}
        module = Module(**{"path": "", "name": "", "root": "", "python": "", **given})
        return cls(module, _load(item.get("platform")) or Load(""), _load(item.get("baseline")),
                   _text(item.get("level")))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _load(value: Any) -> Load | None:
    if not isinstance(value, dict):
        return None
    return Load(_text(value.get("status")), _text(value.get("message")))


def _outcomes(value: Any) -> tuple[Outcome, ...]:
    return tuple(Outcome.of(i) for i in value if isinstance(i, dict)) \
        if isinstance(value, list) else ()


def _count(value: Any, default: int = 0) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class NativeModules:
    """The ``native-modules`` source's detail: how many modules, loaded on the platform, by
    how many interpreters, on which baseline CPU, and the modules by outcome (each list its
    first :data:`LISTED`, each count all); ``mode`` "off": none loaded (``count`` found).
    Written by :meth:`to_json` in report.json's order, read back by :meth:`of` only."""

    count: int = 0
    loaded: int = 0
    interpreters: int = 0
    cpu: str = ""
    seconds: float = 0.0
    cannot_load: tuple[Outcome, ...] = ()
    cannot_load_count: int = 0
    needs_later: tuple[Outcome, ...] = ()
    needs_later_count: int = 0
    warnings: tuple[Outcome, ...] = ()
    warnings_count: int = 0
    slow: tuple[Outcome, ...] = ()
    slow_count: int = 0
    raised_then_illegal: tuple[Outcome, ...] = ()
    skipped: tuple[str, ...] = ()  # the modules native-skip left out
    mode: str = ""  # "off": native-modules = "off", nothing loaded
    steps: tuple[Step, ...] = ()  # the build steps of the files (added by image_layers)

    @classmethod
    def off(cls, found: int) -> NativeModules:
        return cls(count=found, mode="off")

    def to_json(self) -> JSON:
        if self.mode == "off":
            return {"mode": "off", "count": self.count}
        return {"count": self.count, "loaded": self.loaded, "interpreters": self.interpreters,
                "cpu": self.cpu, "seconds": round(self.seconds, 2),
                "cannot_load": [o.to_dict() for o in self.cannot_load],
                "cannot_load_count": self.cannot_load_count,
                "needs_later": [o.to_dict() for o in self.needs_later],
                "needs_later_count": self.needs_later_count,
                "warnings": [o.to_dict() for o in self.warnings],
                "warnings_count": self.warnings_count,
                "slow": [o.to_dict() for o in self.slow], "slow_count": self.slow_count,
                "raised_then_illegal": [o.to_dict() for o in self.raised_then_illegal],
                "skipped": list(self.skipped)}

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> NativeModules:
        cannot, later = _outcomes(data.get("cannot_load")), _outcomes(data.get("needs_later"))
        warned, slow = _outcomes(data.get("warnings")), _outcomes(data.get("slow"))
        seconds, skipped, steps = data.get("seconds"), data.get("skipped"), data.get("steps")
        return cls(_count(data.get("count")), _count(data.get("loaded")),
                   _count(data.get("interpreters")), _text(data.get("cpu")),
                   float(seconds) if isinstance(seconds, int | float) else 0.0,
                   cannot, _count(data.get("cannot_load_count"), len(cannot)),
                   later, _count(data.get("needs_later_count")),
                   warned, _count(data.get("warnings_count"), len(warned)),
                   slow, _count(data.get("slow_count"), len(slow)),
                   _outcomes(data.get("raised_then_illegal")),
                   tuple(str(s) for s in skipped) if isinstance(skipped, list) else (),
                   _text(data.get("mode")),
                   tuple(Step.from_dict(s) for s in steps if isinstance(s, dict))
                   if isinstance(steps, list) else ())


def needs_later(outcome: Outcome) -> bool:
    """Loads on the platform, not on its baseline CPU: the CPU's fault."""
    return outcome.platform.loaded and outcome.baseline is not None and \
        not outcome.baseline.loaded and outcome.baseline.status not in (*UNTRIED, *UNASKED)


def detail(outcomes: list[Outcome], cpu: str, interpreters: int, seconds: float,
           skipped: Sequence[str] = ()) -> NativeModules:
    """The observation's detail: counts, and the modules by outcome (each list bounded);
    ``skipped``: the modules native-skip left out, each bounded."""
    cannot = [o for o in outcomes if not o.platform.loaded and o.platform.status not in
              (*UNTRIED, "raised")]
    later = [o for o in outcomes if needs_later(o)]
    warned = [o for o in outcomes if o.platform.status == "raised" and not needs_later_raised(o)]
    slow = [o for o in outcomes if o.platform.loaded and o.baseline is not None
            and o.baseline.status in UNASKED]
    loaded = sum(o.platform.loaded for o in outcomes)
    return NativeModules(len(outcomes), loaded, interpreters, cpu, seconds,
                         tuple(cannot[:LISTED]), len(cannot), tuple(later[:LISTED]), len(later),
                         tuple(warned[:LISTED]), len(warned), tuple(slow[:LISTED]), len(slow),
                         tuple([o for o in outcomes if needs_later_raised(o)][:LISTED]),
                         tuple(clean(s, 200) for s in skipped))


def needs_later_raised(outcome: Outcome) -> bool:
    """Raised an ordinary exception on the platform, and died by an illegal instruction on
    its baseline CPU: that instruction is the CPU's fault whatever else the module wants."""
    return outcome.platform.status == "raised" and outcome.baseline is not None and \
        outcome.baseline.status == "illegal"


def summary(data: NativeModules) -> str:
    count = data.count
    text = (f"{count} native module{'s' if count != 1 else ''}, {data.loaded} "
            "loaded on the platform")
    for n, what in ((data.cannot_load_count, "cannot load"),
                    (data.needs_later_count, f"not on its baseline CPU ({data.cpu or '?'})"),
                    (data.warnings_count, "raise on import")):
        if n:
            text += f", {n} {what}"
    return text


def _named(item: Outcome, load: str = "platform",
           steps: Mapping[str, Step] | None = None) -> str:
    """``foo 1.2 (foo._speed, /path/x.so, from Dockerfile:9 COPY ...): the message``, each
    part bounded; the step where ``steps`` knows the one that brought the file."""
    module = item.module
    dist = " ".join(x for x in (module.distribution, module.version) if x)
    said = item.baseline if load == "baseline" else item.platform
    message = clean((said.message or said.status) if said else "", MESSAGE_LIMIT)
    step = (steps or {}).get(module.path)
    where = f", from {step.label()}" if step is not None else ""
    return (f"{clean(dist or 'no distribution', 120)} ({clean(module.name, 200)}, "
            f"{clean(module.path, 300)}{where}): {message}")


def _more(count: int) -> str:
    return f"; and {count - SHOWN} more (report.json lists them)" if count > SHOWN else ""


def _level_text(item: Outcome, platform: str) -> str:
    level = item.level
    if level and level != "none":
        return f"loads on {level}'s CPU, {_cpu_of(level)}"
    if level == "none":
        return f"loads on none of the later CPUs the harness knows for {platform}"
    return ""


def _cpu_of(platform: str) -> str:
    return baseline.CPUS.get(platform, ("?", ""))[0]


def lowest(items: Sequence[Outcome | Mapping[str, Any]]) -> str:
    """The lowest level every module that needs a later CPU loads on ("" where one loads on
    none known)."""
    levels = [i.level if isinstance(i, Outcome) else str(i.get("level") or "") for i in items]
    if not levels or any(lv in ("", "none") for lv in levels):
        return ""
    return max(levels, key=lambda lv: list(baseline.CPUS).index(lv) if lv in baseline.CPUS
               else -1)


@dataclass(frozen=True)
class Note:
    """A finding of the source, before the judging makes it a results.finding.Finding (a
    room above this one)."""

    kind: str  # a harness.core.outcomes.Kind value
    message: str
    fix: str
    steps: tuple[Step, ...] = ()  # the build steps that brought the modules it names


def _steps_of(items: Sequence[Outcome], known: Mapping[str, Step]) -> tuple[Step, ...]:
    """The steps of the modules a finding names, each once, in its order."""
    return tuple(dict.fromkeys(known[p] for p in (i.module.path for i in items)
                               if p in known))


def judge(platform: str, given: NativeModules | Mapping[str, Any]) -> list[Note]:
    """The findings of one platform's loads (an observation's detail, see :func:`detail`),
    each module that fails named with the build step that brought its file where that is
    known (``data["steps"]``, see harness.core.answers.origins)."""
    data = given if isinstance(given, NativeModules) else NativeModules.of(given)
    found: list[Note] = []
    known = {s.path: s for s in data.steps}
    cannot = data.cannot_load
    if cannot:
        n = data.cannot_load_count
        shown = "; ".join(_named(i, steps=known) for i in cannot[:SHOWN]) + _more(n)
        found.append(Note(
            "broken", f"{n} native module{'s' if n != 1 else ''} cannot load on {platform}: "
            f"{shown}", "install a release of the package built for this platform (a wheel "
            "of its architecture and libc, or build it from source in the image), with the "
            "libraries it links (the loader's message names what is missing)",
            _steps_of(cannot[:SHOWN], known)))
    later = [*data.needs_later, *data.raised_then_illegal]
    if later:
        n = data.needs_later_count + len(data.raised_then_illegal)
        cpu = data.cpu or _cpu_of(platform)
        shown = "; ".join(f"{_named(i, 'baseline', known)} ({_level_text(i, platform)})"
                          if _level_text(i, platform) else _named(i, "baseline", known)
                          for i in later[:SHOWN]) + _more(n)
        level = lowest(later)
        publish = f"publish this image for {level}" if level else \
            "publish this image for the later CPU level it needs"
        found.append(Note(
            "broken", f"{n} native module{'s' if n != 1 else ''} need{'s' if n == 1 else ''} "
            f"a later CPU than {platform}: on {cpu}, its baseline CPU: {shown}",
            f"pin a release of the package built for the baseline (a wheel for "
            f"{platform}'s oldest CPU, or built from source with no -march above it), or "
            f"{publish}", _steps_of(later[:SHOWN], known)))
    slow = data.slow
    if slow:
        n = data.slow_count
        found.append(Note(
            "error", f"{n} native module{'s' if n != 1 else ''} could not be loaded on the "
            "baseline CPU (in time, or its interpreter did not start there): "
            + "; ".join(_named(i, "baseline") for i in slow[:SHOWN]) + _more(n),
            "rerun on a less busy machine; a module that hangs there is skipped with "
            "native-skip in [tool.harness]"))
    warned = data.warnings
    if warned:
        n = data.warnings_count
        found.append(Note(
            "absent", f"{n} native module{'s' if n != 1 else ''} raise{'s' if n == 1 else ''} "
            "an exception on import on both CPUs, no fault of the image's CPU (a warning): "
            + "; ".join(_named(i) for i in warned[:SHOWN]) + _more(n),
            "if the application imports it, give it what it wants (a display, a config "
            "file, a service) or list it in native-skip in [tool.harness]"))
    return found
