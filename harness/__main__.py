"""``python -m harness COMMAND``: the same as ``multiarch-harness COMMAND``
(see harness.commands.cli)."""

from __future__ import annotations

import sys

from harness.commands.cli import main

if __name__ == "__main__":
    sys.exit(main())
