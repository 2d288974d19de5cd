"""Make the default Debian bases while the unit tests run (`python -m tests.warm_bases`).

On a fresh machine no registry serves debian:bookworm-slim (the Rust Dockerfile's base,
and the harness's default where a Dockerfile names none), so the first engine test that
builds on it bootstraps it with mmdebstrap: about two minutes per emulated platform, one
core busy, the other idle while that test waits. Started by the root conftest when the run
holds a test that builds on those bases, this makes them beside the unit tests, in the order
the engine tests first need them. It makes them exactly as a run of the harness does
(``bases.ensure``, under the same per-tag lock), so a test that needs a base this is still
making waits for it, then finds it made; one that this has made finds it cached. A failure
here costs nothing but the head start: the test makes its base itself, and says why if it
cannot.
"""

from __future__ import annotations

import sys
import time

from harness.containers import bases, engine
from harness.core.buildspec.dockerfile import DEFAULT_BASE
from harness.core.platforms.table import parse_platform

# tests/engine/test_attestations.py needs amd64 and arm64; test_end_to_end.py all four.
ORDER = ("linux/amd64", "linux/arm64", "linux/386", "linux/arm/v7")


def main() -> int:
    client = engine.client()
    for name in ORDER:
        start = time.monotonic()
        bases.ensure(client, DEFAULT_BASE, parse_platform(name), mirror=None,
                     say=lambda line: print(line, flush=True))
        print(f"warm-bases: {name} ready after {time.monotonic() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
