"""Stores of the engine's state: :class:`SQLiteStore` (the default) and :class:`InMemoryStore`.

Both implement the :class:`Store` port defined here. What they keep:

- every order's workflow state (active ones are loaded at start; terminal ones stay on record);
- the **outbox**: each state-changing command, recorded (``PENDING``) in the same transaction
  as the state change that produced it, *before* the engine sends it, and updated with its
  result (``DONE`` / ``FAILED``) in the same transaction as the state change the result causes;
- the poll cursors (market orders, buyer requests, supplier change feed);
- a journal of the lifecycle events fed to the trust model and the cancel-rate ledger, and
  periodic snapshots of both (and of the last reported stock), so that their state after a
  restart equals their state before it.

:func:`read_decisions` reads one order's decision history from a store file without writing
to it (for inspection tools, beside a running engine).

``docs/store.md`` states the guarantees.
"""

from __future__ import annotations

from consign_core._exports import publish
from consign_core.store._memory import InMemoryStore
from consign_core.store._read_only import read_decisions
from consign_core.store._sqlite import SCHEMA_VERSION, SQLiteStore
from consign_core.store._types import OutboxEntry, OutboxStatus, Store, StoreBatch


__all__ = [
    "SCHEMA_VERSION",
    "InMemoryStore",
    "OutboxEntry",
    "OutboxStatus",
    "SQLiteStore",
    "Store",
    "StoreBatch",
    "read_decisions",
]

publish(__name__, __all__)
