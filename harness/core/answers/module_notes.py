"""The ``native-modules`` source's detail and findings, judged from each module's loads
(harness.core.answers.module_loaders): a module that cannot load on the platform, or loads there and
dies by an illegal instruction (or raises) on the baseline CPU, is ``fail`` ("needs a later
CPU", with the lowest later level it loads on); one whose import raises an ordinary
exception on both CPUs (it wants a display, a config file, a running service) is no fault of
the image's CPU: a warning that never fails the run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from harness.core.answers import baseline
from harness.core.answers.extensions import Module
from harness.core.answers.module_loaders import MESSAGE_LIMIT, UNASKED, UNTRIED, Load
from harness.core.answers.origins import Step
from harness.core.failures.diagnosis import clean

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

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self.module), "platform": asdict(self.platform),
                "baseline": asdict(self.baseline) if self.baseline else None,
                "level": self.level}


def needs_later(outcome: Outcome) -> bool:
    """Loads on the platform, not on its baseline CPU: the CPU's fault."""
    return outcome.platform.loaded and outcome.baseline is not None and \
        not outcome.baseline.loaded and outcome.baseline.status not in (*UNTRIED, *UNASKED)


def detail(outcomes: list[Outcome], cpu: str, interpreters: int, seconds: float
           ) -> dict[str, Any]:
    """The observation's detail: counts, and the modules by outcome (each list bounded)."""
    cannot = [o for o in outcomes if not o.platform.loaded and o.platform.status not in
              (*UNTRIED, "raised")]
    later = [o for o in outcomes if needs_later(o)]
    warned = [o for o in outcomes if o.platform.status == "raised" and not needs_later_raised(o)]
    slow = [o for o in outcomes if o.platform.loaded and o.baseline is not None
            and o.baseline.status in UNASKED]
    loaded = sum(o.platform.loaded for o in outcomes)
    return {"count": len(outcomes), "loaded": loaded, "interpreters": interpreters,
            "cpu": cpu, "seconds": round(seconds, 2),
            "cannot_load": [o.to_dict() for o in cannot[:LISTED]],
            "cannot_load_count": len(cannot),
            "needs_later": [o.to_dict() for o in later[:LISTED]],
            "needs_later_count": len(later),
            "warnings": [o.to_dict() for o in warned[:LISTED]], "warnings_count": len(warned),
            "slow": [o.to_dict() for o in slow[:LISTED]], "slow_count": len(slow),
            "raised_then_illegal": [o.to_dict() for o in outcomes
                                    if needs_later_raised(o)][:LISTED]}


def needs_later_raised(outcome: Outcome) -> bool:
    """Raised an ordinary exception on the platform, and died by an illegal instruction on
    its baseline CPU: that instruction is the CPU's fault whatever else the module wants."""
    return outcome.platform.status == "raised" and outcome.baseline is not None and \
        outcome.baseline.status == "illegal"


def summary(data: dict[str, Any]) -> str:
    count = int(data.get("count", 0))
    text = (f"{count} native module{'s' if count != 1 else ''}, {data.get('loaded', 0)} "
            "loaded on the platform")
    for key, what in (("cannot_load_count", "cannot load"),
                      ("needs_later_count", "not on its baseline CPU "
                                            f"({data.get('cpu') or '?'})"),
                      ("warnings_count", "raise on import")):
        if data.get(key):
            text += f", {data[key]} {what}"
    return text


def _named(item: dict[str, Any], load: str = "platform",
           steps: dict[str, Step] | None = None) -> str:
    """``foo 1.2 (foo._speed, /path/x.so, from Dockerfile:9 COPY ...): the message``, each
    part bounded; the step where ``steps`` knows the one that brought the file."""
    dist = " ".join(x for x in (item.get("distribution"), item.get("version")) if x)
    said = item.get(load) or {}
    message = clean(str(said.get("message") or said.get("status") or ""), MESSAGE_LIMIT)
    step = (steps or {}).get(str(item.get("path")))
    where = f", from {step.label()}" if step is not None else ""
    return (f"{clean(dist or 'no distribution', 120)} ({clean(str(item.get('name')), 200)}, "
            f"{clean(str(item.get('path')), 300)}{where}): {message}")


def _more(count: int) -> str:
    return f"; and {count - SHOWN} more (report.json lists them)" if count > SHOWN else ""


def _level_text(item: dict[str, Any], platform: str) -> str:
    level = item.get("level") or ""
    if level and level != "none":
        return f"loads on {level}'s CPU, {_cpu_of(level)}"
    if level == "none":
        return f"loads on none of the later CPUs the harness knows for {platform}"
    return ""


def _cpu_of(platform: str) -> str:
    return baseline.CPUS.get(platform, ("?", ""))[0]


def lowest(items: list[dict[str, Any]]) -> str:
    """The lowest level every module that needs a later CPU loads on ("" where one loads on
    none known)."""
    levels = [str(i.get("level") or "") for i in items]
    if not levels or any(lv in ("", "none") for lv in levels):
        return ""
    return max(levels, key=lambda lv: list(baseline.CPUS).index(lv) if lv in baseline.CPUS
               else -1)


@dataclass(frozen=True)
class Note:
    """A finding of the source, before it is a verdicts.Finding (which imports this)."""

    kind: str  # a harness.core.outcomes.Kind value
    message: str
    fix: str
    steps: tuple[Step, ...] = ()  # the build steps that brought the modules it names


def _steps_of(items: list[dict[str, Any]], known: dict[str, Step]) -> tuple[Step, ...]:
    """The steps of the modules a finding names, each once, in its order."""
    return tuple(dict.fromkeys(known[p] for p in (str(i.get("path")) for i in items)
                               if p in known))


def judge(platform: str, data: dict[str, Any]) -> list[Note]:
    """The findings of one platform's loads (an observation's detail, see :func:`detail`),
    each module that fails named with the build step that brought its file where that is
    known (``data["steps"]``, see harness.core.answers.origins)."""
    found: list[Note] = []
    known = {s.path: s for s in map(Step.from_dict, data.get("steps") or ())}
    cannot = data.get("cannot_load", [])
    if cannot:
        n = int(data.get("cannot_load_count", len(cannot)))
        shown = "; ".join(_named(i, steps=known) for i in cannot[:SHOWN]) + _more(n)
        found.append(Note(
            "broken", f"{n} native module{'s' if n != 1 else ''} cannot load on {platform}: "
            f"{shown}", "install a release of the package built for this platform (a wheel "
            "of its architecture and libc, or build it from source in the image), with the "
            "libraries it links (the loader's message names what is missing)",
            _steps_of(cannot[:SHOWN], known)))
    later = [*data.get("needs_later", []), *data.get("raised_then_illegal", [])]
    if later:
        n = int(data.get("needs_later_count", 0)) + len(data.get("raised_then_illegal", []))
        cpu = data.get("cpu") or _cpu_of(platform)
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
    slow = data.get("slow", [])
    if slow:
        n = int(data.get("slow_count", len(slow)))
        found.append(Note(
            "error", f"{n} native module{'s' if n != 1 else ''} could not be loaded on the "
            "baseline CPU (in time, or its interpreter did not start there): "
            + "; ".join(_named(i, "baseline") for i in slow[:SHOWN]) + _more(n),
            "rerun on a less busy machine; a module that hangs there is skipped with "
            "native-skip in [tool.harness]"))
    warned = data.get("warnings", [])
    if warned:
        n = int(data.get("warnings_count", len(warned)))
        found.append(Note(
            "absent", f"{n} native module{'s' if n != 1 else ''} raise{'s' if n == 1 else ''} "
            "an exception on import on both CPUs, no fault of the image's CPU (a warning): "
            + "; ".join(_named(i) for i in warned[:SHOWN]) + _more(n),
            "if the application imports it, give it what it wants (a display, a config "
            "file, a service) or list it in native-skip in [tool.harness]"))
    return found
