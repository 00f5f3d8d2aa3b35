"""The market listing follows the supplier's stock (a part of :class:`~consign_core.engine.Engine`).

A consignment seller lists items they do not hold: when the supplier sells out, every new
market order for the item is a stock-out cancel (the seller's fault) waiting to happen. So the
engine mirrors the supplier's change feed onto the market, when the market port can set a
listing (:class:`~consign_core.engine.ports.ListingPort`) and
``EngineSettings.mirror_listing`` is on:

- a SKU whose every source (primary and alternates) is reported at stock 0 stops selling;
- a SKU with a source back in stock resumes (a source never reported counts as in stock);
- only changes are sent: the last state recorded per SKU is a store cursor
  (``listing:<sku>``, committed with the outbox entry in one transaction), and a SKU without
  one is taken to be on sale, as the seller listed it;
- each change is a :class:`~consign_core.domain.workflow._commands.SetListing` outbox entry,
  sent like every other command; a newer state for the same SKU settles a pending older one
  ("superseded"), so a late retry can never undo a later change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from consign_core.domain.workflow._commands import SetListing
from consign_core.engine._exec_base import Run
from consign_core.engine._settings import EngineBase
from consign_core.engine.ports import ListingPort, MarketPort
from consign_core.store._types import OutboxStatus, new_outbox_entry


__all__ = ["LISTING_CURSOR_PREFIX", "Listing", "listing_port_of"]

LISTING_CURSOR_PREFIX = "listing:"
"""The store cursor holding a SKU's last listing state (``selling`` or ``stopped``)."""
_SELLING = "selling"
_STOPPED = "stopped"


def listing_port_of(market: MarketPort, *, enabled: bool) -> ListingPort | None:
    """The market port as a :class:`~consign_core.engine.ports.ListingPort`, when mirroring
    is ``enabled`` and the port has ``set_listing`` (checked structurally); else ``None``."""
    if enabled and isinstance(market, ListingPort):
        return market
    return None


class Listing(EngineBase):
    """The listing mirror of the engine (see the module's description)."""

    def _listing_index(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """``(supplier_id, item_id)`` -> the SKUs it is a source of (built once)."""
        index = self._listing_items
        if index is None:
            found: dict[tuple[str, str], list[str]] = {}
            for sku, sources in self._sources.items():
                for source in sources:
                    found.setdefault((source.supplier_id, source.item_id), []).append(sku)
            index = self._listing_items = {k: tuple(v) for k, v in found.items()}
        return index

    def _listing_state(self, sku: str) -> str | None:
        name = LISTING_CURSOR_PREFIX + sku
        if name not in self._cursors:
            self._cursors[name] = self._store.cursor(name)
        return self._cursors[name]

    def _sellable(self, sku: str) -> bool:
        """Some source of ``sku`` is in stock (or was never reported)."""
        stock = self._stock
        return any(
            stock.get((source.supplier_id, source.item_id), 1) > 0
            for source in self._sources.get(sku, ())
        )

    def _mirror_listing(self, items: Iterable[tuple[str, str]], run: Run) -> None:
        """After stock changes of ``items``: record a listing command for every SKU whose
        sellable state changed."""
        if self._listing_port is None:
            return
        index = self._listing_index()
        skus = sorted({sku for item in items for sku in index.get(item, ())})
        for sku in skus:
            selling = self._sellable(sku)
            wanted = _SELLING if selling else _STOPPED
            if (self._listing_state(sku) or _SELLING) == wanted:
                continue
            command = SetListing(
                market=self._market.market, market_sku=sku, selling=selling, at=run.now
            )
            self._record_listing(command, run)
            name = LISTING_CURSOR_PREFIX + sku
            self._cursors[name] = wanted
            run.batch.cursors[name] = wanted

    def _record_listing(self, command: SetListing, run: Run) -> None:
        self._last_outbox += 1
        entry_id = self._last_outbox
        for old in [e for e in self._pending.values() if _same_listing(e.command, command)]:
            done = new_outbox_entry(
                entry_id=old.entry_id,
                command=old.command,
                status=OutboxStatus.DONE,
                attempts=old.attempts,
                created_at=old.created_at,
                next_attempt_at=None,
                result=f"superseded by entry {entry_id}",
            )
            run.batch.outbox[old.entry_id] = done
            del self._pending[old.entry_id]
            self._fresh.discard(old.entry_id)
        entry = new_outbox_entry(entry_id=entry_id, command=command, created_at=run.now)
        run.batch.outbox[entry_id] = entry
        self._pending[entry_id] = entry
        self._fresh.add(entry_id)
        if self._log.isEnabledFor(logging.INFO):
            self._log.info(
                "listing %s: %s (the supplier's stock changed)",
                command.market_sku,
                "resume sales" if command.selling else "stop sales",
            )


def _same_listing(command: object, new: SetListing) -> bool:
    return isinstance(command, SetListing) and command.market_sku == new.market_sku
