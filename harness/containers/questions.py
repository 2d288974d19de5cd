"""The questions an image is asked, and how each answer is read: a command source's command
run and its output parsed (by its reader, harness.core.answers.observation.READERS), a
failure diagnosed (missing, broken, hung), an ELF header read, the userland's package manager
and its package list."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace

from harness.containers import dnf_history
from harness.containers.probe_container import ImageProbe, which
from harness.core.answers import observation as obs
from harness.core.answers import sources
from harness.core.answers.observation import Observation
from harness.core.failures.diagnosis import diagnose
from harness.core.failures.errors import ProbeTimeout
from harness.core.outcomes import Kind


def answer(probe: ImageProbe, source: str, cmd: list[str],
            make: Callable[[str], Observation], timeout: float | None = None,
            required: frozenset[str] = frozenset(), status: int = 0,
            timeout_fix: str | None = None) -> Observation:
    """``source``'s observation; a command that does not answer (exits other than
    ``status``) is diagnosed. ``timeout_fix``: the fix of a hang where the command had a
    time limit of its own (a declared check's ``timeout``), not the run's."""
    try:
        result = probe.run(cmd, timeout)
        if not result.text.strip() and source in sources.BY_NAME:
            # Every built-in source prints its answer, or why it has none; saying nothing is
            # a lost exec, asked once more (seen on Docker 20.10 under load: `uname -m` exit 0
            # and `getconf LONG_BIT` exit 126, each with no output, in the amd64 probes).
            probe._log_line("# no answer: asked once more")
            result = probe.run(cmd, timeout)
    except ProbeTimeout as exc:
        return obs.failed(source, exc.message, fix=timeout_fix or exc.fix,
                          cause=exc.cause or None)
    code, out = result.status, result.text
    if code == status:
        seen = make(out)
        if result.dropped:
            seen.detail["dropped_bytes"] = result.dropped
        return seen
    event = probe.failure(cmd, result, status, timeout, required=source in required)
    d = diagnose(event)
    if d.kind in (Kind.MISSING, Kind.ABSENT):
        # Not found, or found and not executable (a missing program interpreter says ENOENT)?
        if which(probe, cmd[0]) is None:
            return obs.absent(source)
        d = diagnose(replace(event, exists=True))
    return obs.failed(source, d.message, d.kind, d.fix, d.cause)


def elf_answer(probe: ImageProbe, source: str, path: str | None) -> Observation:
    if not path:
        return obs.absent(source)
    found = probe.head(path)
    if found is None:
        return obs.absent(source)
    real, data = found
    return obs.elf(source, data, real)




def userland(ask: Callable[[str], Observation]) -> list[Observation]:
    """The package manager's own name for the userland: dpkg, else apk, else rpm (each asked
    only where the one before is absent)."""
    found = []
    for source in sources.USERLANDS:
        seen = ask(source)
        found.append(seen)
        if not seen.absent:
            break
    return found


def packages(probe: ImageProbe, userland: list[Observation]) -> Observation:
    """The package database of the userland that answered, listed by its own tool."""
    manager = next((o.source for o in userland if not o.absent and o.error is None), None)
    if manager is None:
        return obs.absent("packages")
    where = sources.PACKAGE_MARKS.get(manager)
    if manager == "rpm" and where:
        marks = _dnf_marks(probe, where)
    else:
        found = probe.read(where, sources.MARKS_BYTES) if where else None
        marks = found[1].decode("utf-8", "replace") if found is not None else None
    seen = answer(probe, "packages", list(sources.PACKAGE_LISTS[manager]),
                   functools.partial(obs.packages, manager, marks=marks))
    if seen.error is None:
        seen.detail["marks"] = where if marks is not None else None
    return seen


def _dnf_marks(probe: ImageProbe, where: str) -> str | None:
    """dnf 4's history as rows for the core; None where there is none, or it is no dnf
    history, or it (or its log) is past its bound: not read whole, so no marks."""
    limit = sources.HISTORY_BYTES
    main = probe.read(where, limit + 1)
    if main is None or len(main[1]) > limit:
        return None
    wal = probe.read(main[0] + "-wal", limit + 1)
    if wal is not None and len(wal[1]) > limit:
        return None
    return dnf_history.rows(main[1], wal[1] if wal is not None else None)
