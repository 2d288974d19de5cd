"""Exceptions and exit statuses: one clear message, one fix, one status per kind of trouble."""

from __future__ import annotations

# pytest's own statuses are kept for what they already mean (2 interrupted, 4 usage error).
EXIT_OK = 0
EXIT_IMAGE_WRONG = 1
EXIT_INTERRUPTED = 2
EXIT_USAGE = 4
EXIT_CANNOT_CHECK = 69  # sysexits EX_UNAVAILABLE: the machine could not check


class HarnessError(Exception):
    """Base class: a message for the user and the fix to apply."""

    exit_status = EXIT_CANNOT_CHECK

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class UsageError(HarnessError):
    """Bad input: unknown platform, missing Dockerfile or context, malformed option."""

    exit_status = EXIT_USAGE


class CannotCheck(HarnessError):
    """The machine cannot check: no engine, no QEMU handler, unreachable mirror, hung probe."""


class EngineUnavailable(CannotCheck):
    pass


class NoEmulation(CannotCheck):
    pass


class BaseUnavailable(CannotCheck):
    pass


class ProbeTimeout(CannotCheck):
    pass


class ImageWrong(HarnessError):
    """The image itself is broken: a failing RUN step, a base of another platform."""

    exit_status = EXIT_IMAGE_WRONG


class BuildFailed(ImageWrong):
    def __init__(self, message: str, fix: str = "", log_tail: str = "") -> None:
        super().__init__(message, fix)
        self.log_tail = log_tail
