"""Embed the automation engine, against the in-memory market and supplier fakes.

In this example, we:

- build an in-memory Coupang-like market and a Domeme-like supplier platform
  (:mod:`consign_core.testing`), with one supplier that often runs out of stock and a
  flaky network (10% of calls time out, fail with a 5xx or are throttled);
- map two SKUs to their suppliers (a primary and an alternate for one of them);
- run the :class:`~consign_core.engine.Engine` on a SQLite file with the ``expected-cost``
  policy for two simulated days, through ``run_forever`` with an injected clock and sleep,
  so nothing waits for real time;
- restart the engine half-way, as a new process would, from the same file;
- script one stock-out that is rerouted to the alternate supplier, one that cannot be (the
  buyer gets the 품절 apology and the order is cancelled as a stock-out), and one buyer who
  cancels while waiting;
- print what happened to each order, the messages buyers got, one order's decision history
  and the store's outbox.

Runs offline in a few seconds.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from consign_core.domain.model import CancelReason
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import make_policy
from consign_core.engine import Engine
from consign_core.store import SQLiteStore
from consign_core.testing import (
    T0,
    Fate,
    Faults,
    InMemoryMarket,
    InMemorySupplier,
    SupplierBehaviour,
    make_order,
)


SOURCES = {
    "MUG-01": [("cheap-mugs", "1001"), ("solid-mugs", "2002")],  # primary, then alternate
    "CUP-07": ("solid-mugs", "2007"),
}


class FakeClock:
    """Simulated time: ``sleep`` moves it forward and lets the fakes act."""

    def __init__(self, market: InMemoryMarket, supplier: InMemorySupplier) -> None:
        self.now = T0
        self.market = market
        self.supplier = supplier

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.market.advance(self.now)
        self.supplier.advance(self.now)


def build_engine(market: InMemoryMarket, supplier: InMemorySupplier, path: Path) -> Engine:
    """The engine, wired the way an embedder would wire it (a real adapter in production)."""
    return Engine(
        market,
        supplier,
        SQLiteStore(path),
        policy=make_policy("expected-cost"),
        profile=COUPANG,
        sources=SOURCES,
        messenger=market,
        on_escalate=lambda state, reason: print(f"  ! escalated {state.order.ref}: {reason}"),
    )


def main() -> None:
    """Run two simulated days and report."""
    # WARNING: only what a person must act on (escalations, refusals); retries are INFO
    logging.basicConfig(level=logging.WARNING)
    market = InMemoryMarket(faults=Faults(rate=0.1, seed=1))
    supplier = InMemorySupplier(
        behaviours={
            "cheap-mugs": SupplierBehaviour(
                cancel_probability=0.4, cancel_after=timedelta(hours=5)
            ),
            "solid-mugs": SupplierBehaviour(invoice_after=timedelta(hours=8)),
        },
        faults=Faults(rate=0.1, seed=2),
        seed=3,
    )
    for i in range(8):
        sku = "MUG-01" if i % 2 == 0 else "CUP-07"
        market.add_order(make_order(f"10{i:02d}", sku=sku, quantity=1 + i % 3, paid_at=T0))
    sold_out = Fate(ships=False, after=timedelta(hours=3), reason=CancelReason.STOCK_OUT)
    supplier.script(make_order("1000").ref, sold_out, attempt=1)  # rerouted to the alternate
    supplier.script(make_order("1003").ref, sold_out)  # CUP-07 has no alternate: cancelled
    late_buyer = make_order("2001", sku="CUP-07", paid_at=T0)
    market.add_order(late_buyer)
    supplier.script(late_buyer.ref, Fate(ships=True, after=timedelta(hours=30)))

    clock = FakeClock(market, supplier)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "seller.db"
        print("day 1")
        engine = build_engine(market, supplier, path)
        engine.run_forever(clock=clock, sleep=clock.sleep, poll_interval=600, max_runs=6 * 24)
        market.buyer_cancels(late_buyer.ref)  # the buyer gives up waiting
        print("day 2 (a new engine on the same file, as after a restart)")
        engine = build_engine(market, supplier, path)
        engine.run_forever(clock=clock, sleep=clock.sleep, poll_interval=600, max_runs=6 * 24)

        print("\norders:")
        for ref in market.refs():
            state = engine.order(ref)
            if state is None:
                continue
            why = ""
            if state.cancellation is not None:
                c = state.cancellation
                why = f" ({c.fault.value} fault, {c.reason.value})"
            print(f"  {ref}: {state.status.value}{why} - supplier {state.supplier_id}")
        print("\nmessages to buyers:")
        for message in market.messages:
            print(f"  {message.ref}: {message.text[:60]}...")
        print("\ndecisions about 1000 (rerouted after a stock-out):")
        for record in engine.decisions(make_order("1000").ref):
            print(f"  {record.at:%a %H:%M} {record.kind.value}: {record.reason}")
        store = SQLiteStore(path)
        kinds = Counter((e.command.kind.value, e.status.value) for e in store.outbox())
        print("\noutbox:", dict(kinds))
        store.close()
    print(f"supplier orders placed twice: {supplier.duplicate_orders}")
    print(f"faults injected: market {market.faults.injected}, supplier {supplier.faults.injected}")


if __name__ == "__main__":
    main()
