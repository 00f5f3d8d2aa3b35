"""Validation-free constructors for the values the simulator builds millions of times.

The simulator knows every value it creates is valid (aware KST datetimes, positive quantities,
non-empty ids), so it skips the attrs validators, the way the trust model builds its
assessments. The engine uses a few of them too, only for values it builds from values that
were validated already (its own outbox entries, wake-ups and acknowledgement or upload
results), never for what an adapter hands it; the in-memory supplier, for the new states of
its own orders. The objects are ordinary instances of the real
classes, equal to what the validating constructor gives (``tests/test_sim.py`` checks each
one). Fields are read from ``attrs.fields`` at import, so a field added later with a default is
still filled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from consign_core.domain.events import (
    InvoiceUploaded,
    MarketAcknowledged,
    OrderCancelled,
    OrderPaid,
    SupplierCancelled,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    Cancellation,
    MarketOrder,
    OrderLine,
    OrderRef,
    SupplierOrder,
    Tracking,
)
from consign_core.domain.workflow import SupplierCancelResult, WakeUp


__all__ = [
    "FAST_TYPES",
    "new_cancellation",
    "new_invoice_uploaded",
    "new_market_acknowledged",
    "new_market_order",
    "new_order_cancelled",
    "new_order_line",
    "new_order_paid",
    "new_order_ref",
    "new_supplier_cancel_result",
    "new_supplier_cancelled",
    "new_supplier_invoiced",
    "new_supplier_order",
    "new_supplier_order_placed",
    "new_tracking",
    "new_wake_up",
    "prevalidated_maker",
]

T = TypeVar("T")

_new = object.__new__
_set = object.__setattr__


_HASH_CACHE = "_attrs_cached_hash"  # where attrs keeps the hash of a cache_hash=True class


def _slots(cls: type) -> set[str]:
    """Every slot of ``cls`` and of its bases."""
    return {name for klass in cls.__mro__ for name in getattr(klass, "__slots__", ())}


def prevalidated_maker(cls: type[T]) -> Callable[..., T]:
    """A keyword-only function ``make(field=..., ...)`` setting every init field of ``cls``.

    Generated source (as attrs itself does), so a call costs one ``object.__new__`` and one
    ``object.__setattr__`` per field (plus one to clear the hash cache of a class built with
    ``cache_hash=True``, as attrs' own ``__init__`` does).
    """
    fields = [f for f in attrs.fields(cls) if f.init]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_new": _new, "_set": _set, "_cls": cls}
    params = []
    body = ["    obj = _new(_cls)"]
    for f in fields:
        if f.default is attrs.NOTHING:
            params.append(f.name)
        elif isinstance(f.default, attrs.Factory):  # type: ignore[arg-type]
            msg = f"{cls.__name__}.{f.name} has a factory default; build it the slow way"
            raise TypeError(msg)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set(obj, {f.name!r}, {f.name})")
    if _HASH_CACHE in _slots(cls):  # cache_hash=True: attrs' __init__ clears the cache
        body.append(f"    _set(obj, {_HASH_CACHE!r}, None)")
    body.append("    return obj")
    source = f"def make(*, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<fast {cls.__name__}>", "exec"), namespace)  # noqa: S102 - our own source
    make: Callable[..., T] = namespace["make"]
    make.__name__ = f"fast_{cls.__name__}"
    return make


FAST_TYPES: tuple[type, ...] = (
    OrderRef,
    OrderLine,
    MarketOrder,
    Tracking,
    Cancellation,
    OrderPaid,
    SupplierOrderPlaced,
    SupplierInvoiced,
    SupplierCancelled,
    MarketAcknowledged,
    InvoiceUploaded,
    OrderCancelled,
    SupplierCancelResult,
    WakeUp,
    SupplierOrder,
)
"""The classes with a ``new_*`` constructor here."""

new_order_ref = prevalidated_maker(OrderRef)
new_order_line = prevalidated_maker(OrderLine)
new_market_order = prevalidated_maker(MarketOrder)
new_tracking = prevalidated_maker(Tracking)
new_cancellation = prevalidated_maker(Cancellation)
new_order_paid = prevalidated_maker(OrderPaid)
new_supplier_order_placed = prevalidated_maker(SupplierOrderPlaced)
new_supplier_invoiced = prevalidated_maker(SupplierInvoiced)
new_supplier_cancelled = prevalidated_maker(SupplierCancelled)
new_market_acknowledged = prevalidated_maker(MarketAcknowledged)
new_invoice_uploaded = prevalidated_maker(InvoiceUploaded)
new_order_cancelled = prevalidated_maker(OrderCancelled)
new_supplier_cancel_result = prevalidated_maker(SupplierCancelResult)
new_wake_up = prevalidated_maker(WakeUp)
new_supplier_order = prevalidated_maker(SupplierOrder)
