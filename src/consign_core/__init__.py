"""consign-core: decide when to confirm (발주확인) consignment orders, and automate the rest.

The top-level package re-exports the pure core: the domain model and events, the Korean
business-day calendar, the error tree and the converter. Submodules hold the rest
(``consign_core.domain.trust``, ``consign_core.domain.rules``, ``consign_core.domain.cancel_rate``,
``consign_core.domain.timing``, ...). Importing ``consign_core`` never needs the optional extras.
"""

from __future__ import annotations

from typing import Any

from consign_core.domain.calendar import (
    DEFAULT_CALENDAR,
    KST,
    BusinessCalendar,
    Moratorium,
    PenaltyKind,
    require_aware,
    to_kst,
)
from consign_core.domain.events import (
    BuyerCancelRequested,
    Delivered,
    Event,
    InvoiceUploaded,
    MarketAcknowledged,
    OrderCancelled,
    OrderPaid,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    MarketOrder,
    OrderLine,
    OrderRef,
    Recipient,
    Supplier,
    SupplierItem,
    SupplierOrder,
    SupplierOrderStatus,
    SupplierSignals,
    Tracking,
)
from consign_core.domain.serialization import make_converter, structure, unstructure
from consign_core.errors import (
    AdapterError,
    AuthenticationError,
    ConfigurationError,
    ConsignError,
    DomainError,
    InsufficientHistoryError,
    InvalidTransitionError,
    NaiveDatetimeError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    SerializationError,
    StoreError,
    TransientError,
    UnexpectedResponseError,
    ValidationError,
)


__all__ = [
    "DEFAULT_CALENDAR",
    "KST",
    "AdapterError",
    "AuthenticationError",
    "BusinessCalendar",
    "BuyerCancelRequested",
    "CancelFault",
    "CancelReason",
    "Cancellation",
    "ConfigurationError",
    "ConsignError",
    "Delivered",
    "DomainError",
    "Event",
    "InsufficientHistoryError",
    "InvalidTransitionError",
    "InvoiceUploaded",
    "MarketAcknowledged",
    "MarketOrder",
    "Moratorium",
    "NaiveDatetimeError",
    "NotFoundError",
    "OrderCancelled",
    "OrderLine",
    "OrderPaid",
    "OrderRef",
    "PenaltyKind",
    "RateLimitedError",
    "Recipient",
    "RejectedError",
    "SerializationError",
    "StoreError",
    "Supplier",
    "SupplierCancelled",
    "SupplierConfirmed",
    "SupplierInvoiced",
    "SupplierItem",
    "SupplierOrder",
    "SupplierOrderPlaced",
    "SupplierOrderStatus",
    "SupplierSignals",
    "Tracking",
    "TransientError",
    "UnexpectedResponseError",
    "ValidationError",
    "make_converter",
    "require_aware",
    "structure",
    "to_kst",
    "unstructure",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("consign-core")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
