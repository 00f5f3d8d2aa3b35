"""The SQLite store: WAL, one transaction per commit, ``PRAGMA user_version`` migrations."""

from __future__ import annotations

import json
import logging
import sqlite3
import zlib
from collections.abc import Iterable
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any

from consign_core.domain.decisions import DecisionRecord
from consign_core.domain.model import MarketOrder, OrderRef
from consign_core.domain.workflow._types import OrderState
from consign_core.errors import StoreError
from consign_core.store._codec import (
    OrderCache,
    decode_command,
    decode_journal_record,
    decode_state,
    encode_command,
    encode_journal_record,
    encode_state,
    ref_key,
)
from consign_core.store._schema import (
    DECISIONS_OF_ORDER,
    MIGRATIONS,
    SCHEMA_VERSION,
    refuse_newer,
)
from consign_core.store._side_codec import (
    decision_names,
    decode_decision,
    decode_recipient,
    encode_decision,
    encode_recipient,
    with_recipient,
)
from consign_core.store._types import JournalRecord, OutboxEntry, OutboxStatus, StoreBatch


__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

logger = logging.getLogger("consign_core.store")

_SEPARATORS = (",", ":")
_STATUS_CODE = {OutboxStatus.PENDING: 0, OutboxStatus.DONE: 1, OutboxStatus.FAILED: 2}
_CODE_STATUS = {code: status for status, code in _STATUS_CODE.items()}


_Logged = tuple[list[tuple[int, str, int, str]], bool]
"""The rows a commit appends to the order-state log, and whether it folded the log."""


def _is_new(entry: OutboxEntry) -> bool:
    """A new entry is pending and never attempted; every later version of it is an update."""
    return entry.status is OutboxStatus.PENDING and entry.attempts == 0


def _compress(data: Any) -> bytes:
    """Snapshots are large and repetitive JSON: store them zlib-compressed."""
    text = json.dumps(data, separators=_SEPARATORS, ensure_ascii=False)
    return zlib.compress(text.encode("utf-8"), 6)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class SQLiteStore:
    """The embedded default :class:`~consign_core.engine.ports.Store`: one SQLite file.

    - WAL journal; every :meth:`commit` is one ``BEGIN IMMEDIATE ... COMMIT`` transaction, so a
      crash leaves exactly the batches committed before it.
    - ``synchronous=NORMAL`` by default: a committed batch survives a process crash (even
      SIGKILL); ``durable=True`` sets ``synchronous=FULL`` so it also survives power loss.
    - The schema version lives in ``PRAGMA user_version``; opening an older file migrates it
      step by step (each step in its own transaction); a newer file is refused with
      :class:`~consign_core.errors.StoreError`.
    - One engine (one process) per file; the store does not arbitrate between writers.
    - The buyers' delivery details (``MarketOrder.recipient``) live in a table of their own
      (``personal``), never in the order states, the journal or the outbox; they are put back
      on the order when a state is read, and :meth:`purge_personal_data` deletes them (with
      ``secure_delete`` on, then a WAL checkpoint, so the bytes leave the file too).
    - Order states are appended to a log (``order_log``) and folded into the ``orders`` table
      once the log holds :attr:`fold_rows` rows (and on :meth:`checkpoint`), in the same
      transaction as the commit that fills it. Appending touches a few pages per commit where
      updating each order's row in place touched one page per order; the store keeps the
      log's index (order -> latest row) in memory, read back when the file is opened and
      whenever another connection has committed to it (``PRAGMA data_version``), so a second
      store on the file (a read-only inspection) reads what was committed.
    """

    fold_rows: int = 20_000
    """Fold the order-state log into ``orders`` once it holds this many rows."""

    def __init__(self, path: str | PathLike[str], *, durable: bool = False) -> None:
        """Open (or create) the store at ``path``."""
        self._path = Path(path)
        self._orders = OrderCache()
        # the order-state log: ref key -> (seq, active) of its latest row; rows; last seq; and
        # the file's data_version when it was read (another connection's commits change it)
        self._log: dict[str, tuple[int, int]] = {}
        self._log_rows = 0
        self._log_seq = 0
        self._log_version = 0
        # orders whose delivery details this store has written (by identity: an order never
        # changes, its state does), so that a state's every new version does not rewrite them
        self._kept: dict[int, MarketOrder] = {}
        try:
            self._db = sqlite3.connect(self._path, isolation_level=None)
            if self.schema_version == 0:
                # A new file: let pruned journal pages go back to the file system.
                self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.execute("PRAGMA cache_size=-32000")  # 32 MB of page cache
            self._db.execute("PRAGMA wal_autocheckpoint=4000")  # pages (~16 MB) between checkpoints
            self._migrate()
            self._read_log()
            # no delivery details in the file yet: end times need not be written (the
            # policy lab's and the benchmarks' orders have none)
            self._has_personal = bool(self._db.execute("SELECT 1 FROM personal LIMIT 1").fetchall())
        except sqlite3.Error as exc:
            msg = f"cannot open the store at {self._path}: {exc}"
            raise StoreError(msg) from exc

    def _read_log(self) -> None:
        # The version first: a commit landing while the log is read then shows as a change at
        # the next look, never as none.
        (version,) = self._db.execute("PRAGMA data_version").fetchone()
        log: dict[str, tuple[int, int]] = {}
        rows = 0
        seq = 0
        for seq, key, active in self._db.execute(
            "SELECT seq, ref, active FROM order_log ORDER BY seq"
        ):
            log[key] = (seq, active)
            rows += 1
        self._log, self._log_rows, self._log_seq = log, rows, seq
        self._log_version = version

    def _current_log(self) -> dict[str, tuple[int, int]]:
        """The log index, read again if another connection (a second store on this file, in
        this process or another) has committed since: its appends and folds are not in it.
        This store's own commits keep it current and leave ``data_version`` as it was."""
        try:
            if self._db.execute("PRAGMA data_version").fetchone()[0] != self._log_version:
                self._read_log()
        except sqlite3.Error as exc:
            msg = f"cannot read the store at {self._path}: {exc}"
            raise StoreError(msg) from exc
        return self._log

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def schema_version(self) -> int:
        """The file's schema version."""
        row = self._db.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    def _migrate(self) -> None:
        version = self.schema_version
        refuse_newer(self._path, version)
        for index in range(version, SCHEMA_VERSION):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[index](self._db)
                self._db.execute(f"PRAGMA user_version={index + 1}")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            logger.info("store %s migrated to schema version %d", self._path, index + 1)

    # ------------------------------------------------------------------ reads

    def load_active(self) -> list[OrderState]:
        """Every non-terminal (or escalated) order state, in order-reference order."""
        # One statement, so one snapshot of both tables (another store may fold in between
        # two), and no use of the log index (another store may have written since).
        rows = self._query(
            "SELECT a.ref, a.state, p.data FROM (SELECT ref, state FROM orders WHERE active = 1"
            " AND ref NOT IN (SELECT ref FROM order_log)"  # a newer state is in the log
            " UNION ALL SELECT ref, state FROM order_log WHERE active = 1 AND seq IN"
            " (SELECT MAX(seq) FROM order_log GROUP BY ref)) AS a"
            " LEFT JOIN personal AS p ON p.ref = a.ref"
        )
        rows.sort(key=lambda row: row[0])
        return [self._attach(decode_state(text), data) for _, text, data in rows]

    @staticmethod
    def _attach(state: OrderState, data: str | None) -> OrderState:
        """``state`` with its order's delivery details put back (``data``: their row)."""
        if data is None:
            return state
        return with_recipient(state, decode_recipient(state.order.ref, data))

    def get_order(self, ref: OrderRef) -> OrderState | None:
        """One order's state."""
        key = ref_key(ref)
        latest = self._current_log().get(key)
        rows = None
        if latest is not None:
            rows = self._query(
                "SELECT state FROM order_log WHERE seq = ? AND ref = ?", (latest[0], key)
            )
        if not rows:  # not logged since the last fold (or another store has just folded)
            rows = self._query("SELECT state FROM orders WHERE ref = ?", (key,))
        if not rows:
            return None
        personal = self._query("SELECT data FROM personal WHERE ref = ?", (key,))
        return self._attach(decode_state(rows[0][0]), personal[0][0] if personal else None)

    def known(self, refs: Iterable[OrderRef]) -> set[OrderRef]:
        """The subset of ``refs`` with a stored state."""
        by_key = {ref_key(ref): ref for ref in refs}
        log = self._current_log()
        found = {ref for key, ref in by_key.items() if key in log}
        keys = [key for key in by_key if key not in log]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT ref FROM orders WHERE ref IN ({marks})"  # noqa: S608 - only "?"s
            rows = self._query(sql, chunk)
            found.update(by_key[key] for (key,) in rows)
        return found

    def pending_outbox(self) -> list[OutboxEntry]:
        """Outbox entries whose result is unknown, oldest first."""
        rows = self._query(
            "SELECT id, kind, attempts, created, next_at, command, result FROM outbox"
            " WHERE status = 0 ORDER BY id"
        )
        return [
            OutboxEntry(
                entry_id=entry_id,
                command=decode_command(kind, command),
                attempts=attempts,
                created_at=datetime.fromisoformat(created),
                next_attempt_at=None if next_at is None else datetime.fromisoformat(next_at),
                result=result,
            )
            for entry_id, kind, attempts, created, next_at, command, result in rows
        ]

    def outbox(self) -> list[OutboxEntry]:
        """Every outbox entry, oldest first (an audit trail of what was sent)."""
        rows = self._query(
            "SELECT id, kind, status, attempts, created, next_at, command, result FROM outbox"
            " ORDER BY id"
        )
        return [
            OutboxEntry(
                entry_id=entry_id,
                command=decode_command(kind, command),
                status=_CODE_STATUS[status],
                attempts=attempts,
                created_at=datetime.fromisoformat(created),
                next_attempt_at=None if next_at is None else datetime.fromisoformat(next_at),
                result=result,
            )
            for entry_id, kind, status, attempts, created, next_at, command, result in rows
        ]

    def cursor(self, name: str) -> str | None:
        """A saved poll cursor."""
        rows = self._query("SELECT value FROM cursors WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def snapshot(self, name: str) -> tuple[int, Any] | None:
        """A saved snapshot ``(journal position, data)``."""
        rows = self._query("SELECT position, data FROM snapshots WHERE name = ?", (name,))
        if not rows:
            return None
        position, data = rows[0]
        text = zlib.decompress(data).decode("utf-8") if isinstance(data, bytes) else data
        return int(position), json.loads(text)

    def journal_after(self, position: int) -> list[tuple[int, JournalRecord]]:
        """Journal records after ``position``, decoded, in order."""
        rows = self._query(
            "SELECT seq, record FROM journal WHERE seq > ? ORDER BY seq", (position,)
        )
        return [(int(seq), decode_journal_record(str(record))) for seq, record in rows]

    def last_ids(self) -> tuple[int, int]:
        """The highest outbox id and journal seq ever used."""
        (outbox,) = self._query(
            "SELECT MAX(CAST(value AS INTEGER), (SELECT COALESCE(MAX(id), 0) FROM outbox))"
            " FROM meta WHERE key = 'last_outbox_id'"
        )[0]
        seqs = self._query(
            "SELECT MAX(m) FROM (SELECT MAX(seq) AS m FROM journal UNION ALL"
            " SELECT MAX(position) FROM snapshots)"
        )
        return int(outbox), int(seqs[0][0] or 0)

    def decisions(self, ref: OrderRef) -> list[DecisionRecord]:
        """One order's decision records, oldest first."""
        rows = self._query(DECISIONS_OF_ORDER, (ref_key(ref),))
        return [decode_decision(ref, *row) for row in rows]

    def size_bytes(self) -> int:
        """The database's size on disk (main file plus WAL)."""
        wal = self._path.with_name(self._path.name + "-wal")
        return self._path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    def checkpoint(self) -> None:
        """Fold the order-state log into ``orders``, then the WAL into the main file
        (``PRAGMA wal_checkpoint(TRUNCATE)``)."""
        self._current_log()  # another store may have appended since
        try:
            if self._log_rows:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._fold(self._db)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
                self._log, self._log_rows = {}, 0
                self._db.executescript("PRAGMA incremental_vacuum;")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            msg = f"cannot write to the store at {self._path}: {exc}"
            raise StoreError(msg) from exc

    @staticmethod
    def _fold(db: sqlite3.Connection) -> None:
        """Move each order's latest logged state into ``orders``; empty the log."""
        db.execute(
            "INSERT INTO orders (ref, active, state) SELECT ref, active, state FROM order_log"
            " WHERE seq IN (SELECT MAX(seq) FROM order_log GROUP BY ref) ORDER BY ref"
            " ON CONFLICT (ref) DO UPDATE SET active = excluded.active, state = excluded.state"
        )
        db.execute("DELETE FROM order_log")

    # ------------------------------------------------------------------ writes

    def commit(self, batch: StoreBatch) -> None:
        """Write ``batch`` in one transaction."""
        if not batch:
            return
        db = self._db
        try:
            personal = self._personal(batch)
            db.execute("BEGIN IMMEDIATE")
            try:
                logged = self._write(db, batch)
                if personal or (batch.ended and self._has_personal):
                    self._write_personal(db, personal, batch)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            for _, _, order in personal:  # written: not again for this order
                self._kept[id(order)] = order
            if personal:
                self._has_personal = True
            if logged is not None:  # the log index follows what was committed
                self._logged(*logged)
            if batch.prune_journal_through is not None:
                # Hand the pruned journal's pages back to the file system. (A plain execute()
                # frees a single page; executescript() runs the pragma to completion.)
                db.executescript("PRAGMA incremental_vacuum;")
        except (sqlite3.Error, UnicodeEncodeError) as exc:  # text SQLite cannot store
            msg = f"cannot write to the store at {self._path}: {exc}"
            raise StoreError(msg) from exc

    def _write(self, db: sqlite3.Connection, batch: StoreBatch) -> _Logged | None:
        logged = self._append_states(db, batch) if batch.states else None
        if batch.outbox:
            entries = batch.outbox.values()
            new = [e for e in entries if _is_new(e)]
            updates = [
                (_STATUS_CODE[e.status], e.attempts, _iso(e.next_attempt_at), e.result, e.entry_id)
                for e in entries
                if not _is_new(e)
            ]
            before = db.total_changes
            if updates:
                db.executemany(
                    "UPDATE outbox SET status = ?, attempts = ?, next_at = ?, result = ?"
                    " WHERE id = ?",
                    updates,
                )
            if db.total_changes - before != len(updates):
                new = list(entries)  # some were never inserted: write them all in full
            if new:
                db.executemany(
                    "INSERT OR REPLACE INTO outbox (id, ref, kind, status, attempts, created,"
                    " next_at, command, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            e.entry_id,
                            ref_key(e.ref),
                            e.command.kind.value,
                            _STATUS_CODE[e.status],
                            e.attempts,
                            e.created_at.isoformat(),
                            _iso(e.next_attempt_at),
                            encode_command(e.command),
                            e.result,
                        )
                        for e in new
                    ],
                )
        if batch.cursors:
            db.executemany(
                "INSERT OR REPLACE INTO cursors (name, value) VALUES (?, ?)", batch.cursors.items()
            )
        if batch.journal:
            db.executemany(
                "INSERT INTO journal (seq, record) VALUES (?, ?)",
                [(seq, encode_journal_record(record)) for seq, record in batch.journal],
            )
        if batch.snapshots:
            db.executemany(
                "INSERT OR REPLACE INTO snapshots (name, position, data) VALUES (?, ?, ?)",
                [
                    (name, position, _compress(data))
                    for name, (position, data) in batch.snapshots.items()
                ],
            )
        if batch.prune_journal_through is not None:
            db.execute("DELETE FROM journal WHERE seq <= ?", (batch.prune_journal_through,))
        if batch.decisions:
            self._append_decisions(db, batch)
        return logged

    def _personal(self, batch: StoreBatch) -> list[tuple[str, str, MarketOrder]]:
        """``(ref key, data, order)`` for each state whose delivery details are not written
        yet (from this order object)."""
        kept = self._kept
        if len(kept) > 100_000:
            kept.clear()  # re-writing an unchanged row is a no-op (see _write_personal)
        rows = []
        for ref, state in batch.states.items():
            order = state.order
            recipient = order.recipient
            if recipient is not None and kept.get(id(order)) is not order:
                rows.append((ref_key(ref), encode_recipient(recipient), order))
        return rows

    @staticmethod
    def _write_personal(
        db: sqlite3.Connection, rows: list[tuple[str, str, MarketOrder]], batch: StoreBatch
    ) -> None:
        if rows:  # a row is rewritten only when the details changed (no stale copies)
            db.executemany(
                "INSERT INTO personal (ref, data) VALUES (?, ?) ON CONFLICT (ref)"
                " DO UPDATE SET data = excluded.data WHERE data != excluded.data",
                [(key, data) for key, data, _ in rows],
            )
        ended = [(ref_key(ref), at) for ref, at in batch.ended.items()]
        closed = [(at.timestamp(), key) for key, at in ended if at is not None]
        reopened = [(key,) for key, at in ended if at is None]
        if closed:  # the first end counts (a later event on an ended order keeps it)
            db.executemany("UPDATE personal SET ended = ? WHERE ref = ? AND ended IS NULL", closed)
        if reopened:  # open again: never purged while open
            db.executemany(
                "UPDATE personal SET ended = NULL WHERE ref = ? AND ended IS NOT NULL", reopened
            )

    def purge_personal_data(self, ended_before: datetime) -> int:
        """Delete the delivery details of the orders that ended before ``ended_before``.

        ``secure_delete`` is on for the delete, so SQLite overwrites the freed bytes, and the
        WAL is checkpointed and truncated afterwards, so the old pages leave it too (unless
        another connection is reading the file at that moment: then at a later checkpoint).
        """
        cut = ended_before.timestamp()
        db = self._db
        try:
            (secure,) = db.execute("PRAGMA secure_delete").fetchone()
            db.execute("PRAGMA secure_delete=ON")
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    purged = db.execute(
                        "DELETE FROM personal WHERE ended IS NOT NULL AND ended < ?", (cut,)
                    ).rowcount
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            finally:  # back to what it was (some builds have it on by default)
                db.execute(f"PRAGMA secure_delete={int(secure)}")
            if purged:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                logger.info(
                    "store %s: purged the delivery details of %d orders", self._path, purged
                )
        except sqlite3.Error as exc:
            msg = f"cannot write to the store at {self._path}: {exc}"
            raise StoreError(msg) from exc
        return int(purged)

    @staticmethod
    def _append_decisions(db: sqlite3.Connection, batch: StoreBatch) -> None:
        ids: dict[str, int] = {}  # names list -> its row, for this transaction
        rows = []
        for record in batch.decisions:
            names = decision_names(record)
            names_id = ids.get(names)
            if names_id is None:
                db.execute("INSERT OR IGNORE INTO decision_names (names) VALUES (?)", (names,))
                (names_id,) = db.execute(
                    "SELECT id FROM decision_names WHERE names = ?", (names,)
                ).fetchone()
                ids[names] = names_id
            rows.append(encode_decision(record, names_id))
        db.executemany(
            "INSERT INTO decisions (ref, at, kind, reason, names, numbers)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def _append_states(self, db: sqlite3.Connection, batch: StoreBatch) -> _Logged:
        """Append the batch's states to the log (folding it when full); the new log index
        takes effect only once the transaction commits."""
        cache = self._orders
        seq = self._log_seq
        rows = []
        for ref, state in batch.states.items():
            seq += 1
            rows.append((seq, ref_key(ref), int(not state.is_terminal), encode_state(state, cache)))
        db.executemany("INSERT INTO order_log (seq, ref, active, state) VALUES (?, ?, ?, ?)", rows)
        folded = self._log_rows + len(rows) >= self.fold_rows
        if folded:
            self._fold(db)
        return rows, folded

    def _logged(self, rows: list[tuple[int, str, int, str]], folded: bool) -> None:  # noqa: FBT001
        """Update the in-memory log index after a commit that appended ``rows``."""
        self._log_seq = rows[-1][0]
        if folded:
            self._log, self._log_rows = {}, 0
            return
        log = self._log
        for seq, key, active, _ in rows:
            log[key] = (seq, active)
        self._log_rows += len(rows)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as exc:
            msg = f"cannot read the store at {self._path}: {exc}"
            raise StoreError(msg) from exc
