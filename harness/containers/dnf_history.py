"""dnf 4's history database as read from an image (/var/lib/dnf/history.sqlite, with its
write-ahead log where dnf left one): the rows that say why each package was installed, as
text for the core (harness.core.answers.parity resolves them). The bytes read from the image
are written to a directory of this process's own and opened there with Python's sqlite3: the
image's file is never opened in place, and a file that is no dnf history (or a malformed one)
gives no rows, so everything is compared, as for an image with no marks."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

ROWS = 200_000  # history rows read (a long-lived system's history holds a few thousand)
SECONDS = 5.0  # the query's bound: a crafted database cannot hold the probe
_TABLES = ("trans", "trans_item", "rpm")
_QUERY = ("SELECT i.name, i.arch, ti.trans_id, ti.id, ti.action, ti.reason, t.state "
          "FROM trans_item ti JOIN trans t ON ti.trans_id = t.id "
          "JOIN rpm i ON ti.item_id = i.item_id LIMIT ?")


def rows(main: bytes, wal: bytes | None = None) -> str | None:
    """The history's rows, one a line, tab-separated name, arch, transaction id, item id,
    action, reason and the transaction's state; None where the bytes are no dnf 4 history."""
    with tempfile.TemporaryDirectory(prefix="harness-dnf-") as where:
        db = Path(where) / "history.sqlite"
        db.write_bytes(main)
        if wal:  # sqlite replays the log's committed frames when it opens the copy
            (Path(where) / "history.sqlite-wal").write_bytes(wal)
        try:
            return _read(db)
        except (sqlite3.Error, OverflowError, ValueError):
            return None


def _read(db: Path) -> str | None:
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        found = {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not set(_TABLES) <= found:  # views of the same names are not dnf's tables
            return None
        deadline = time.monotonic() + SECONDS
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        lines = []
        for row in conn.execute(_QUERY, (ROWS,)):
            fields = [str(f) for f in row]
            if any(c in f for f in fields for c in "\t\r\n"):
                continue  # no RPM name or arch holds one: not a row to pass on
            lines.append("\t".join(fields))
        return "\n".join(lines)
    finally:
        conn.close()
