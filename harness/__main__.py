"""``python -m harness preflight|publish|merge|registry|bench``: what nox sessions call."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command == "preflight":
        from harness.preflight import main as preflight

        return preflight(rest)
    if command in ("publish", "merge"):
        from harness.publish_cli import main as publish

        return publish(command, rest)
    if command == "registry":
        from harness.local_registry import main as registry

        return registry(rest)
    if command == "bench":
        from harness.bench import main as bench

        return bench(rest)
    print("usage: python -m harness preflight|publish|merge|registry|bench [options]",
          file=sys.stderr)
    return 4


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
