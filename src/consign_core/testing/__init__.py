"""In-memory market and supplier fakes for embedders' own tests (and the library's).

:class:`InMemoryMarket` implements :class:`~consign_core.engine.ports.MarketPort` (and
:class:`~consign_core.engine.ports.BuyerMessenger`) like Coupang's order API;
:class:`InMemorySupplier`
implements :class:`~consign_core.engine.ports.SupplierPort` like Domeme's buyer API. Both are
scriptable (stock-outs, slow invoices, buyer cancels, supplier cancels), inject failures from a
seeded :class:`Faults` (timeouts, some after the call took effect; 5xx; throttling), count their
calls and duplicates, and can be dumped to JSON and loaded back (to outlive a crashed engine).

A typical test::

    from consign_core.testing import InMemoryMarket, InMemorySupplier, make_order

    market, supplier = InMemoryMarket(), InMemorySupplier()
    market.add_order(make_order("1001"))
    ...  # run the engine, then supplier.advance(later) and run it again
    assert supplier.duplicate_orders == 0
"""

from __future__ import annotations

from consign_core._exports import publish
from consign_core.testing._builders import T0, make_order
from consign_core.testing._faults import FaultKind, Faults
from consign_core.testing._market import COUPANG_COURIERS, InMemoryMarket, SentMessage
from consign_core.testing._supplier import Fate, InMemorySupplier, SupplierBehaviour


__all__ = [
    "COUPANG_COURIERS",
    "T0",
    "Fate",
    "FaultKind",
    "Faults",
    "InMemoryMarket",
    "InMemorySupplier",
    "SentMessage",
    "SupplierBehaviour",
    "make_order",
]

publish(__name__, __all__)
