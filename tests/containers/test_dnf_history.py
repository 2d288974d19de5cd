"""dnf 4's history database read from an image's bytes (harness.containers.dnf_history), on
a real history: tests/fixtures/dnf-history/history.sqlite, made by Debian bookworm's dnf 4.14
(its make.sh): `dnf install app` (helper and archdep pulled in), `dnf install extra`, `dnf
mark install helper`, `dnf remove extra`."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from harness.containers import dnf_history
from harness.core.answers import observation as obs
from harness.core.answers import parity
from tests.helpers import FIXTURES

HISTORY = FIXTURES / "dnf-history" / "history.sqlite"
LISTED = "app\t1.0-1\tnoarch\nhelper\t1.0-1\tnoarch\narchdep\t1.0-1\tnoarch\n" \
    "bash\t5.2.15-3.fc38\tx86_64\n"


def test_the_packages_asked_for_by_hand_are_those_dnf_says() -> None:
    rows = dnf_history.rows(HISTORY.read_bytes())
    assert rows is not None
    assert [line.split("\t") for line in rows.splitlines()] == [
        ["app", "noarch", "1", "1", "1", "2", "1"],  # install, by the user
        ["archdep", "noarch", "1", "2", "1", "1", "1"],  # install, a dependency
        ["helper", "noarch", "1", "3", "1", "1", "1"],
        ["extra", "noarch", "2", "4", "1", "2", "1"],
        ["helper", "noarch", "3", "5", "11", "2", "1"],  # dnf mark install: by the user
        ["extra", "noarch", "4", "6", "8", "2", "1"]]  # removed
    seen = obs.packages("rpm", LISTED, rows)
    # bash: no history names it (rpm installed it), so it counts, as dnf's user_installed.
    assert seen.detail["manual"] == ["app", "bash", "helper"]
    # Before the mark, helper was a dependency: the latest finished item decides.
    before = "\n".join(r for r in rows.splitlines() if int(r.split("\t")[2]) < 3)
    assert parity.manual("rpm", parity.parse("rpm", LISTED), before) == ["app", "bash"]


def test_a_transaction_still_in_the_write_ahead_log_is_read(tmp_path: Path) -> None:
    """dnf keeps its history in WAL mode: a transaction not yet copied back into the main
    file is in history.sqlite-wal beside it, read with it."""
    db = tmp_path / "history.sqlite"
    shutil.copy(HISTORY, db)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # as dnf left it
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("INSERT INTO trans (id, dt_begin, releasever, user_id, state) "
                     "VALUES (5, 0, '1', 0, 1)")
        conn.execute("INSERT INTO trans_item (trans_id, item_id, repo_id, action, reason, "
                     "state) VALUES (5, 1, 1, 11, 1, 1)")  # app marked as a dependency
        conn.commit()
        main, wal = db.read_bytes(), (tmp_path / "history.sqlite-wal").read_bytes()
    finally:
        conn.close()
    assert wal and main == HISTORY.read_bytes()  # the change is in the log alone
    listed = parity.parse("rpm", LISTED)
    assert parity.manual("rpm", listed, dnf_history.rows(main, wal)) == ["bash", "helper"]
    assert parity.manual("rpm", listed, dnf_history.rows(main)) == ["app", "bash", "helper"]


def test_bytes_that_are_no_dnf_history_give_no_marks(tmp_path: Path) -> None:
    """No rows, so everything is compared (as with no marks): a cut file, another file, and
    a database whose tables are not dnf's (a view in place of one)."""
    real = HISTORY.read_bytes()
    assert dnf_history.rows(real[:4096]) is None
    assert dnf_history.rows(real[:len(real) // 2]) is None
    assert dnf_history.rows(b"Package: bash\nAuto-Installed: 1\n") is None
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.executescript("CREATE TABLE trans (id); CREATE TABLE rpm (item_id); "
                       "CREATE VIEW trans_item AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL "
                       "SELECT x + 1 FROM n) SELECT x AS id FROM n;")
    conn.close()
    assert dnf_history.rows(other.read_bytes()) is None


def test_a_crafted_history_cannot_hold_the_probe(tmp_path: Path) -> None:
    """Rows without end: the query is bounded in rows (and in time), names with a tab or a
    newline (no RPM has one) are not passed on."""
    db = tmp_path / "history.sqlite"
    shutil.copy(HISTORY, db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("INSERT INTO rpm VALUES (99, 'bad\tname\nx', 0, '1', '1', 'noarch')")
    conn.execute("INSERT INTO trans_item (trans_id, item_id, repo_id, action, reason, state) "
                 "VALUES (1, 99, 1, 1, 2, 1)")
    conn.execute("INSERT INTO trans_item (trans_id, item_id, repo_id, action, reason, state) "
                 "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                 f"WHERE x < {dnf_history.ROWS + 10}) SELECT 1, 1, 1, 1, 2, 1 FROM n")
    conn.commit()
    conn.close()
    rows = dnf_history.rows(db.read_bytes())
    # ROWS read, the crafted name among them (transaction 1's item 7) left out
    assert rows is not None and len(rows.splitlines()) == dnf_history.ROWS - 1
    assert "bad" not in rows and "noarch\t1\t7\t" not in rows
