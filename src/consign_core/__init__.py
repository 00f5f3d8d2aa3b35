"""consign-core: decide when to confirm (발주확인) consignment orders, and automate the rest.

The top-level package re-exports the nouns a tool builder reaches for first: the domain model
and events, the Korean business-day calendar, the error tree and the converter; the
:class:`Engine` with its settings, the stores, the trust model, the cancel-rate ledger, the
timing policies (:func:`make_policy`) and the built-in market rule profiles (:data:`COUPANG`,
:data:`NAVER`, :data:`AMAZON`, :data:`EBAY`). Each is imported on first use, so
``import consign_core`` stays light and never imports an optional extra (httpx, matplotlib).

The layers live in their own packages: :mod:`consign_core.domain` (the pure core),
:mod:`consign_core.store`, :mod:`consign_core.engine`, :mod:`consign_core.testing` (fakes of
the ports), :mod:`consign_core.adapters` (HTTP clients, extra ``http``),
:mod:`consign_core.lab` (simulator, backtest, sweeps) and :mod:`consign_core.cli`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from consign_core.domain.calendar import (
        DEFAULT_CALENDAR as DEFAULT_CALENDAR,
    )
    from consign_core.domain.calendar import (
        KST as KST,
    )
    from consign_core.domain.calendar import (
        BusinessCalendar as BusinessCalendar,
    )
    from consign_core.domain.calendar import (
        Moratorium as Moratorium,
    )
    from consign_core.domain.calendar import (
        PenaltyKind as PenaltyKind,
    )
    from consign_core.domain.calendar import (
        require_aware as require_aware,
    )
    from consign_core.domain.calendar import (
        to_kst as to_kst,
    )
    from consign_core.domain.cancel_rate import (
        Ledger as Ledger,
    )
    from consign_core.domain.events import (
        BuyerCancelRequested as BuyerCancelRequested,
    )
    from consign_core.domain.events import (
        Delivered as Delivered,
    )
    from consign_core.domain.events import (
        Event as Event,
    )
    from consign_core.domain.events import (
        InvoiceUploaded as InvoiceUploaded,
    )
    from consign_core.domain.events import (
        MarketAcknowledged as MarketAcknowledged,
    )
    from consign_core.domain.events import (
        OrderCancelled as OrderCancelled,
    )
    from consign_core.domain.events import (
        OrderPaid as OrderPaid,
    )
    from consign_core.domain.events import (
        SupplierCancelled as SupplierCancelled,
    )
    from consign_core.domain.events import (
        SupplierConfirmed as SupplierConfirmed,
    )
    from consign_core.domain.events import (
        SupplierInvoiced as SupplierInvoiced,
    )
    from consign_core.domain.events import (
        SupplierOrderPlaced as SupplierOrderPlaced,
    )
    from consign_core.domain.model import (
        CancelFault as CancelFault,
    )
    from consign_core.domain.model import (
        Cancellation as Cancellation,
    )
    from consign_core.domain.model import (
        CancelReason as CancelReason,
    )
    from consign_core.domain.model import (
        MarketOrder as MarketOrder,
    )
    from consign_core.domain.model import (
        OrderLine as OrderLine,
    )
    from consign_core.domain.model import (
        OrderRef as OrderRef,
    )
    from consign_core.domain.model import (
        Recipient as Recipient,
    )
    from consign_core.domain.model import (
        Supplier as Supplier,
    )
    from consign_core.domain.model import (
        SupplierItem as SupplierItem,
    )
    from consign_core.domain.model import (
        SupplierOrder as SupplierOrder,
    )
    from consign_core.domain.model import (
        SupplierOrderStatus as SupplierOrderStatus,
    )
    from consign_core.domain.model import (
        SupplierSignals as SupplierSignals,
    )
    from consign_core.domain.model import (
        Tracking as Tracking,
    )
    from consign_core.domain.rules import (
        AMAZON as AMAZON,
    )
    from consign_core.domain.rules import (
        COUPANG as COUPANG,
    )
    from consign_core.domain.rules import (
        EBAY as EBAY,
    )
    from consign_core.domain.rules import (
        NAVER as NAVER,
    )
    from consign_core.domain.rules import (
        RuleProfile as RuleProfile,
    )
    from consign_core.domain.serialization import (
        make_converter as make_converter,
    )
    from consign_core.domain.serialization import (
        structure as structure,
    )
    from consign_core.domain.serialization import (
        unstructure as unstructure,
    )
    from consign_core.domain.timing import (
        ConfirmationPolicy as ConfirmationPolicy,
    )
    from consign_core.domain.timing import (
        make_policy as make_policy,
    )
    from consign_core.domain.trust import (
        TrustConfig as TrustConfig,
    )
    from consign_core.domain.trust import (
        TrustModel as TrustModel,
    )
    from consign_core.engine import (
        DecisionKind as DecisionKind,
    )
    from consign_core.engine import (
        DecisionRecord as DecisionRecord,
    )
    from consign_core.engine import (
        Engine as Engine,
    )
    from consign_core.engine import (
        EngineSettings as EngineSettings,
    )
    from consign_core.engine import (
        RunReport as RunReport,
    )
    from consign_core.engine.ports import (
        MarketPort as MarketPort,
    )
    from consign_core.engine.ports import (
        PlaceOrderRequest as PlaceOrderRequest,
    )
    from consign_core.engine.ports import (
        SupplierPort as SupplierPort,
    )
    from consign_core.errors import (
        AdapterError as AdapterError,
    )
    from consign_core.errors import (
        AuthenticationError as AuthenticationError,
    )
    from consign_core.errors import (
        ConfigurationError as ConfigurationError,
    )
    from consign_core.errors import (
        ConsignError as ConsignError,
    )
    from consign_core.errors import (
        DomainError as DomainError,
    )
    from consign_core.errors import (
        InsufficientHistoryError as InsufficientHistoryError,
    )
    from consign_core.errors import (
        InvalidTransitionError as InvalidTransitionError,
    )
    from consign_core.errors import (
        NaiveDatetimeError as NaiveDatetimeError,
    )
    from consign_core.errors import (
        NotFoundError as NotFoundError,
    )
    from consign_core.errors import (
        RateLimitedError as RateLimitedError,
    )
    from consign_core.errors import (
        RejectedError as RejectedError,
    )
    from consign_core.errors import (
        SerializationError as SerializationError,
    )
    from consign_core.errors import (
        StoreError as StoreError,
    )
    from consign_core.errors import (
        TransientError as TransientError,
    )
    from consign_core.errors import (
        UnexpectedResponseError as UnexpectedResponseError,
    )
    from consign_core.errors import (
        ValidationError as ValidationError,
    )
    from consign_core.store import (
        InMemoryStore as InMemoryStore,
    )
    from consign_core.store import (
        SQLiteStore as SQLiteStore,
    )
    from consign_core.store import (
        Store as Store,
    )


__all__ = [
    "AMAZON",
    "COUPANG",
    "DEFAULT_CALENDAR",
    "EBAY",
    "KST",
    "NAVER",
    "AdapterError",
    "AuthenticationError",
    "BusinessCalendar",
    "BuyerCancelRequested",
    "CancelFault",
    "CancelReason",
    "Cancellation",
    "ConfigurationError",
    "ConfirmationPolicy",
    "ConsignError",
    "DecisionKind",
    "DecisionRecord",
    "Delivered",
    "DomainError",
    "Engine",
    "EngineSettings",
    "Event",
    "InMemoryStore",
    "InsufficientHistoryError",
    "InvalidTransitionError",
    "InvoiceUploaded",
    "Ledger",
    "MarketAcknowledged",
    "MarketOrder",
    "MarketPort",
    "Moratorium",
    "NaiveDatetimeError",
    "NotFoundError",
    "OrderCancelled",
    "OrderLine",
    "OrderPaid",
    "OrderRef",
    "PenaltyKind",
    "PlaceOrderRequest",
    "RateLimitedError",
    "Recipient",
    "RejectedError",
    "RuleProfile",
    "RunReport",
    "SQLiteStore",
    "SerializationError",
    "Store",
    "StoreError",
    "Supplier",
    "SupplierCancelled",
    "SupplierConfirmed",
    "SupplierInvoiced",
    "SupplierItem",
    "SupplierOrder",
    "SupplierOrderPlaced",
    "SupplierOrderStatus",
    "SupplierPort",
    "SupplierSignals",
    "Tracking",
    "TransientError",
    "TrustConfig",
    "TrustModel",
    "UnexpectedResponseError",
    "ValidationError",
    "make_converter",
    "make_policy",
    "require_aware",
    "structure",
    "to_kst",
    "unstructure",
]

_LAZY: dict[str, str] = {
    "AMAZON": "consign_core.domain.rules",
    "COUPANG": "consign_core.domain.rules",
    "DEFAULT_CALENDAR": "consign_core.domain.calendar",
    "EBAY": "consign_core.domain.rules",
    "KST": "consign_core.domain.calendar",
    "NAVER": "consign_core.domain.rules",
    "AdapterError": "consign_core.errors",
    "AuthenticationError": "consign_core.errors",
    "BusinessCalendar": "consign_core.domain.calendar",
    "BuyerCancelRequested": "consign_core.domain.events",
    "CancelFault": "consign_core.domain.model",
    "CancelReason": "consign_core.domain.model",
    "Cancellation": "consign_core.domain.model",
    "ConfigurationError": "consign_core.errors",
    "ConfirmationPolicy": "consign_core.domain.timing",
    "ConsignError": "consign_core.errors",
    "DecisionKind": "consign_core.engine",
    "DecisionRecord": "consign_core.engine",
    "Delivered": "consign_core.domain.events",
    "DomainError": "consign_core.errors",
    "Engine": "consign_core.engine",
    "EngineSettings": "consign_core.engine",
    "Event": "consign_core.domain.events",
    "InMemoryStore": "consign_core.store",
    "InsufficientHistoryError": "consign_core.errors",
    "InvalidTransitionError": "consign_core.errors",
    "InvoiceUploaded": "consign_core.domain.events",
    "Ledger": "consign_core.domain.cancel_rate",
    "MarketAcknowledged": "consign_core.domain.events",
    "MarketOrder": "consign_core.domain.model",
    "MarketPort": "consign_core.engine.ports",
    "Moratorium": "consign_core.domain.calendar",
    "NaiveDatetimeError": "consign_core.errors",
    "NotFoundError": "consign_core.errors",
    "OrderCancelled": "consign_core.domain.events",
    "OrderLine": "consign_core.domain.model",
    "OrderPaid": "consign_core.domain.events",
    "OrderRef": "consign_core.domain.model",
    "PenaltyKind": "consign_core.domain.calendar",
    "PlaceOrderRequest": "consign_core.engine.ports",
    "RateLimitedError": "consign_core.errors",
    "Recipient": "consign_core.domain.model",
    "RejectedError": "consign_core.errors",
    "RuleProfile": "consign_core.domain.rules",
    "RunReport": "consign_core.engine",
    "SQLiteStore": "consign_core.store",
    "SerializationError": "consign_core.errors",
    "Store": "consign_core.store",
    "StoreError": "consign_core.errors",
    "Supplier": "consign_core.domain.model",
    "SupplierCancelled": "consign_core.domain.events",
    "SupplierConfirmed": "consign_core.domain.events",
    "SupplierInvoiced": "consign_core.domain.events",
    "SupplierItem": "consign_core.domain.model",
    "SupplierOrder": "consign_core.domain.model",
    "SupplierOrderPlaced": "consign_core.domain.events",
    "SupplierOrderStatus": "consign_core.domain.model",
    "SupplierPort": "consign_core.engine.ports",
    "SupplierSignals": "consign_core.domain.model",
    "Tracking": "consign_core.domain.model",
    "TransientError": "consign_core.errors",
    "TrustConfig": "consign_core.domain.trust",
    "TrustModel": "consign_core.domain.trust",
    "UnexpectedResponseError": "consign_core.errors",
    "ValidationError": "consign_core.errors",
    "make_converter": "consign_core.domain.serialization",
    "make_policy": "consign_core.domain.timing",
    "require_aware": "consign_core.domain.calendar",
    "structure": "consign_core.domain.serialization",
    "to_kst": "consign_core.domain.calendar",
    "unstructure": "consign_core.domain.serialization",
}
"""Where each re-exported name lives (its public module)."""


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if name == "__version__":
        from importlib.metadata import version

        return version("consign-core")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})
