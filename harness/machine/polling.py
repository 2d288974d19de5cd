"""The harness's one hand-made wait, where testcontainers' wait strategies have nothing that
fits: a container's own state read as the engine reports it (running, or exited and why), an
object the engine may have made meanwhile, an exec's status recorded a moment after its
stream ends, a service that must be healthy or accept connections. testcontainers' waits
raise TimeoutError and tell only ready or not; these callers need what was seen (a stopped
container's state, the service's answer), so each asks with :func:`until` and keeps its own
timeout and error. (The registry's readiness is testcontainers' HTTP wait:
harness.containers.local_registry.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until(check: Callable[[], T | None], timeout: float, interval: float) -> T | None:
    """``check()`` every ``interval`` seconds until it gives something (not None), for
    ``timeout`` seconds: what it gave, or None once the time is up. It is asked at least
    once, and once more at the end; what it raises goes to the caller (a state that settles
    the wait another way)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
