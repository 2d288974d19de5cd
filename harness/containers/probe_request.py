"""What a probe of one image is asked with: one record, built once by the pipeline from the
run's options for the platform, and passed whole to each job that needs a part of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.containers.probe_container import Emulation
from harness.core.declared.usercheck import DeclaredCheck
from harness.core.outcomes import RunKind
from harness.core.platforms.table import Platform
from harness.machine import kept


@dataclass(frozen=True)
class ProbeRequest:
    """How to probe an image: its time limits, log, how its platform runs here, what must
    answer, what it is allowed, the declared checks, and what may be read back.

    ``keep_audits``: read back the audits of an image ID audited before, and keep this one's;
    ``keep_answers`` (for an engine on this machine, what it runs containers with:
    EngineFacts.runtime): keep this run's answers, and with ``read_answers`` read them back
    where the same image ran before on this machine as it would run now
    (harness.machine.kept)."""

    timeout: float = 60.0
    hello_timeout: float = 600.0
    log_path: Path | None = None
    mode: RunKind | None = None
    required: frozenset[str] = frozenset()
    allow_foreign: tuple[str, ...] = ()
    checks: tuple[DeclaredCheck, ...] = ()
    docker_host: str | None = None
    emulation: Emulation | None = None
    launcher: Path | None = None  # this machine's QEMU, to launch on the baseline CPU
    keep_audits: bool = False
    # A mapping in a frozen record: never hashed (eq only), never changed once built.
    keep_answers: dict[str, Any] | None = field(default=None, hash=False)
    read_answers: bool = False
    native_modules: str = "auto"  # `native-modules`: "auto" or "off"
    native_skip: tuple[str, ...] = ()

    @property
    def kept_answers(self) -> bool:
        """Whether this probe's answers are kept (and may be read back): an engine on this
        machine, and no declared check (a user's command may depend on what no key holds)."""
        return self.keep_answers is not None and not self.checks

    def answers_key(self, image_id: str, platform: Platform, run_as: Platform) -> str:
        """The name the answers of ``image_id`` probed as ``platform`` are kept under: every
        option of this request the answers depend on (harness.machine.kept.answers_key)."""
        assert self.keep_answers is not None, "kept_answers says whether there is a key"
        emulation = self.emulation
        return kept.answers_key(image_id, platform.name, {
            "run_as": run_as.name, "mode": self.mode, "timeout": self.timeout,
            "hello_timeout": self.hello_timeout, "required": sorted(self.required),
            "allow_foreign": list(self.allow_foreign),
            "emulation": emulation and [emulation.name, emulation.handler, emulation.local],
            "launcher": self.launcher and kept.file_stamp(str(self.launcher)),
            "native": [self.native_modules, list(self.native_skip)]}, self.keep_answers)
