"""A finding: what is wrong (or worth knowing) about one source of one platform, with its
kind (so its verdict and exit status), its fix, its cause by name and the build steps that
brought the files it names. Made by the judging (harness.core.judging.verdicts); read by
every report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.core.answers.origins import Step
from harness.core.failures.diagnosis import INTERRUPTIONS
from harness.core.jsondoc import JSON
from harness.core.outcomes import Kind, Verdict


@dataclass(frozen=True)
class Finding:
    source: str
    kind: Kind
    message: str
    fix: str = ""
    # The build step that brought each file the message names (harness.core.answers.origins).
    steps: tuple[Step, ...] = ()
    # Why, by name: the diagnosis table's cause where a diagnosis made the finding
    # (harness.core.failures.diagnosis), else the one its maker names (sameness.CAUSE). Findings are
    # told apart by it, never by their words; None in reports written before it was kept.
    cause: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))  # from report.json's strings too
        object.__setattr__(self, "steps", tuple(
            s if isinstance(s, Step) else Step.from_dict(s) for s in self.steps))

    @property
    def verdict(self) -> Verdict:
        return self.kind.verdict

    @property
    def interruption(self) -> bool:
        """The run was interrupted: the finding says nothing of the image or the machine."""
        return self.cause in INTERRUPTIONS

    def to_dict(self) -> JSON:
        data: JSON = {k: str(v) for k, v in asdict(self).items()
                                if k not in ("steps", "cause")}
        if self.cause is not None:  # optional in report.json: older reports have none
            data["cause"] = self.cause
        if self.steps:
            data["steps"] = [s.to_dict() for s in self.steps]
        return data
