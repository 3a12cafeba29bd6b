"""The records that follow a send wait out a busy store and are never forgotten
(delivery/records.py; red team, issue 12 item 18). A real SQLite file, its write lock
held by a second connection; the Recorder's pauses are counted instead of slept (the
lock is released at a chosen pause), so no test waits on the clock.
"""

from __future__ import annotations

import sqlite3

import pytest

from monitor.delivery.records import Recorder, busy
from monitor.errors import StoreError
from monitor.storage import Store

pytestmark = pytest.mark.unit


class Desk:
    """A SQLite file with a table `rec`, a second connection that can hold its write lock,
    and writes that fail fast (timeout 0) the way the store reports them."""

    def __init__(self, path) -> None:
        self.path = str(path)
        with sqlite3.connect(self.path) as db:
            db.execute("CREATE TABLE rec (what TEXT)")
        self.holder = sqlite3.connect(self.path, isolation_level=None)
        self.pauses: list[float] = []
        self.release_at: int | None = None

    def lock(self) -> None:
        self.holder.execute("BEGIN EXCLUSIVE")

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if self.release_at is not None and len(self.pauses) >= self.release_at and self.holder.in_transaction:
            self.holder.execute("COMMIT")

    def clock(self) -> float:
        return sum(self.pauses)

    def write(self, what: str):
        def run() -> None:
            try:
                with sqlite3.connect(self.path, timeout=0) as db:
                    db.execute("INSERT INTO rec VALUES (?)", (what,))
            except sqlite3.OperationalError as exc:
                raise StoreError(f"store sqlite:///m.db: {exc}") from None

        return run

    def rows(self) -> list[str]:
        with sqlite3.connect(self.path) as db:
            return [w for (w,) in db.execute("SELECT what FROM rec ORDER BY rowid")]


# (variant, pause at which the lock is released (None: never), patience s, raises, rows after)
CASES = [
    ("lock gone after 2 pauses: written, nothing owed", 2, 300.0, False, ["sent"]),
    ("lock gone at once", 1, 300.0, False, ["sent"]),
    ("lock outlasts the patience: owed, raised", None, 10.0, True, []),
]


@pytest.mark.parametrize(("variant", "release", "patience", "raises", "rows"), CASES, ids=[c[0] for c in CASES])
def test_a_write_waits_out_a_busy_store_within_the_patience(tmp_path, variant, release, patience, raises, rows):
    desk = Desk(tmp_path / "m.db")
    desk.lock()
    desk.release_at = release
    rec = Recorder(sleep=desk.sleep, clock=desk.clock, patience=patience)
    if raises:
        with pytest.raises(StoreError, match="locked"):
            rec.write("sent", desk.write("sent"))
        assert [w for w, _ in rec.owed] == ["sent"], variant
        assert sum(desk.pauses) <= patience
    else:
        rec.write("sent", desk.write("sent"))
        assert rec.owed == [], variant
    desk.holder.close()
    assert desk.rows() == rows, variant


def test_owed_records_are_written_first_and_in_order(tmp_path):
    """openclaw/openclaw#119048: a send whose confirmation is missed must not be sent anew."""
    desk = Desk(tmp_path / "m.db")
    desk.lock()
    rec = Recorder(sleep=desk.sleep, clock=desk.clock, patience=5.0)
    with pytest.raises(StoreError):
        rec.write("delivered", desk.write("delivered"))
    with pytest.raises(StoreError):  # still locked: the new one queues behind the owed one
        rec.write("sent", desk.write("sent"))
    desk.holder.execute("COMMIT")
    rec.settle()
    assert desk.rows() == ["delivered", "sent"] and rec.owed == []


def test_a_closed_store_is_not_waited_for(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    store.close()
    pauses: list[float] = []
    rec = Recorder(sleep=pauses.append)
    with pytest.raises(StoreError, match="closed"):
        rec.write("sent", lambda: store.mark_sent(1, None))  # type: ignore[arg-type]
    assert pauses == []  # raised at once, the write owed


# (variant, how the real error is made, busy?) -- alexfrmn/murmur#122: "database is locked" after a send
def _locked(tmp_path) -> str:
    desk = Desk(tmp_path / "b.db")
    desk.lock()
    try:
        desk.write("x")()
    except StoreError as exc:
        return str(exc)
    finally:
        desk.holder.close()
    raise AssertionError("no error")


def _constraint(tmp_path) -> str:
    path = tmp_path / "c.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x INTEGER UNIQUE)")
        db.execute("INSERT INTO t VALUES (1)")
        try:
            db.execute("INSERT INTO t VALUES (1)")
        except sqlite3.IntegrityError as exc:
            return f"store sqlite:///c.db: {exc}"
    raise AssertionError("no error")


BUSY = [("sqlite write lock held", _locked, True), ("a unique constraint", _constraint, False)]


@pytest.mark.parametrize(("variant", "make", "expected"), BUSY, ids=[c[0] for c in BUSY])
def test_which_store_errors_are_waited_out(tmp_path, variant, make, expected):
    assert busy(StoreError(make(tmp_path))) is expected, variant
