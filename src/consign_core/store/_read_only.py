"""Reading a SQLite store file without writing to it: what an inspection tool needs.

:class:`~consign_core.store.SQLiteStore` opens a file to run an engine on it: it creates the
schema in a new file, migrates an older one and switches it to WAL. A command that only looks
(``consign-core decisions``, a dashboard beside a running engine) must do none of that, so
:func:`read_decisions` opens the file read-only (SQLite's ``mode=ro``): it never creates,
migrates or changes it, and refuses a file that is not a consign-core store.
"""

from __future__ import annotations

import sqlite3
from os import PathLike
from pathlib import Path

from consign_core.domain.decisions import DecisionRecord
from consign_core.domain.model import OrderRef
from consign_core.errors import StoreError, ValidationError
from consign_core.store._codec import ref_key
from consign_core.store._schema import DECISIONS_OF_ORDER, DECISIONS_SINCE, refuse_newer
from consign_core.store._side_codec import decode_decision


__all__ = ["read_decisions"]


def read_decisions(path: str | PathLike[str], ref: object) -> list[DecisionRecord]:
    """One order's decision records in the store file at ``path``, oldest first, read without
    writing to the file (it may be in use by a running engine).

    A file written before the decision history existed (schema 3 or older) has none: ``[]``.
    A missing file, one that is not a consign-core store and one written by a newer release
    raise :class:`~consign_core.errors.StoreError`; a ``ref`` that is not an
    :class:`~consign_core.domain.model.OrderRef` raises
    :class:`~consign_core.errors.ValidationError`.
    """
    if not isinstance(ref, OrderRef):
        msg = f"ref must be an OrderRef (e.g. OrderRef(market='coupang', ...)), got {ref!r}"
        raise ValidationError(msg, field="ref", value=ref)
    file = Path(path)
    if not file.is_file():
        msg = f"cannot read the store at {file}: no such file"
        raise StoreError(msg)
    try:
        db = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        msg = f"cannot read the store at {file}: {exc}"
        raise StoreError(msg) from exc
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version == 0:
            msg = f"{file} is not a consign-core store (no schema version)"
            raise StoreError(msg)
        refuse_newer(file, version)
        if version < DECISIONS_SINCE:
            return []
        rows = db.execute(DECISIONS_OF_ORDER, (ref_key(ref),)).fetchall()
    except sqlite3.Error as exc:  # not a database, a damaged one, a missing table
        msg = f"cannot read the store at {file}: {exc}"
        raise StoreError(msg) from exc
    finally:
        db.close()
    return [decode_decision(ref, *row) for row in rows]
