"""The SQLite store's schema: one migration step per version (``PRAGMA user_version``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from os import PathLike

from consign_core.errors import StoreError


__all__ = [
    "DECISIONS_OF_ORDER",
    "DECISIONS_SINCE",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "refuse_newer",
]


def _v1(db: sqlite3.Connection) -> None:
    """Order states, the outbox and poll cursors."""
    db.execute(
        "CREATE TABLE orders (ref TEXT PRIMARY KEY, active INTEGER NOT NULL, state TEXT NOT NULL)"
        " WITHOUT ROWID"
    )
    db.execute("CREATE INDEX orders_active ON orders (active) WHERE active = 1")
    db.execute(
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY, ref TEXT NOT NULL, kind TEXT NOT NULL,"
        " status INTEGER NOT NULL, attempts INTEGER NOT NULL, created TEXT NOT NULL,"
        " next_at TEXT, command TEXT NOT NULL, result TEXT NOT NULL DEFAULT '')"
    )
    db.execute("CREATE INDEX outbox_pending ON outbox (status) WHERE status = 0")
    db.execute("CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")


def _v2(db: sqlite3.Connection) -> None:
    """The event journal and the trust / ledger / stock snapshots."""
    db.execute("CREATE TABLE journal (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE snapshots (name TEXT PRIMARY KEY, position INTEGER NOT NULL,"
        " data TEXT NOT NULL) WITHOUT ROWID"
    )
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
    db.execute(
        "INSERT INTO meta (key, value) SELECT 'last_outbox_id', COALESCE(MAX(id), 0) FROM outbox"
    )


def _v3(db: sqlite3.Connection) -> None:
    """The order-state log: new states are appended, then folded into ``orders`` in batches."""
    db.execute(
        "CREATE TABLE order_log (seq INTEGER PRIMARY KEY, ref TEXT NOT NULL,"
        " active INTEGER NOT NULL, state TEXT NOT NULL)"
    )


def _v4(db: sqlite3.Connection) -> None:
    """Each order's decision history (appended, oldest first by ``seq``); the names of the
    numbers are stored once per distinct list (``decision_names``), each row keeps the values."""
    db.execute("CREATE TABLE decision_names (id INTEGER PRIMARY KEY, names TEXT NOT NULL UNIQUE)")
    db.execute(
        "CREATE TABLE decisions (seq INTEGER PRIMARY KEY, ref TEXT NOT NULL, at TEXT NOT NULL,"
        " kind TEXT NOT NULL, reason TEXT NOT NULL, names INTEGER NOT NULL, numbers TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX decisions_ref ON decisions (ref)")


def _v5(db: sqlite3.Connection) -> None:
    """The buyers' delivery details (personal data), one row per order, apart from the order
    states: ``ended`` is when the order ended (POSIX seconds; ``NULL`` while it is open), and
    rows are deleted a retention after it. Older files had none to move: their states never
    held them."""
    db.execute(
        "CREATE TABLE personal (ref TEXT PRIMARY KEY, data TEXT NOT NULL, ended REAL) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX personal_ended ON personal (ended) WHERE ended IS NOT NULL")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3, _v4, _v5)
"""Schema steps in order; step ``i`` takes the schema from version ``i`` to ``i + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this release writes (``PRAGMA user_version``)."""

DECISIONS_SINCE = MIGRATIONS.index(_v4) + 1
"""The first schema version with the decision history."""

DECISIONS_OF_ORDER = (
    "SELECT d.at, d.kind, d.reason, n.names, d.numbers FROM decisions AS d"
    " JOIN decision_names AS n ON n.id = d.names WHERE d.ref = ? ORDER BY d.seq"
)
"""One order's decision rows, oldest first (the columns ``decode_decision`` takes after the
ref); the one parameter is the order's ref key."""


def refuse_newer(path: str | PathLike[str], version: int) -> None:
    """:class:`~consign_core.errors.StoreError` if the file at ``path`` has a schema newer than
    this release writes (it would be misread)."""
    if version > SCHEMA_VERSION:
        msg = (
            f"{path} has schema version {version}, newer than this release's "
            f"{SCHEMA_VERSION}; upgrade consign-core"
        )
        raise StoreError(msg)
