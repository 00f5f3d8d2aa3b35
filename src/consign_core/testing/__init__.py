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

import importlib
from typing import TYPE_CHECKING, Any

from consign_core._exports import publish
from consign_core.testing._builders import T0, make_order
from consign_core.testing._faults import FaultKind, Faults
from consign_core.testing._market import COUPANG_COURIERS, InMemoryMarket, SentMessage
from consign_core.testing._supplier import Fate, InMemorySupplier, SupplierBehaviour


if TYPE_CHECKING:
    from consign_core.testing.fake_coupang import FakeCoupang as FakeCoupang
    from consign_core.testing.fake_domeme import FakeDomeme as FakeDomeme


__all__ = [
    "COUPANG_COURIERS",
    "T0",
    "FakeCoupang",
    "FakeDomeme",
    "Fate",
    "FaultKind",
    "Faults",
    "InMemoryMarket",
    "InMemorySupplier",
    "SentMessage",
    "SupplierBehaviour",
    "make_order",
]


_LAZY = {
    "FakeCoupang": "consign_core.testing.fake_coupang",
    "FakeDomeme": "consign_core.testing.fake_domeme",
}
"""The fake vendor gateways need the ``http`` extra: they are imported on first use."""


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(home), name)


publish(__name__, [name for name in __all__ if name not in _LAZY])
