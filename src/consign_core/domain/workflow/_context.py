"""What the step function may look at besides the state and the event: the workflow context.

:class:`WorkflowContext` (the time, the ``decide`` callable, the SKU -> supplier sources, the
last reported stock, the message templates, the calendar and the workflow's settings) with
its converters and validators; the :class:`Decider` protocol; a :class:`SupplierSource`; the
built-in message templates (:data:`DEFAULT_TEMPLATES` and their ids). Re-exported by
``consign_core.domain.workflow._types`` and ``consign_core.domain.workflow``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol

import attrs

from consign_core.domain._validators import aware_datetime, fail, non_empty_str
from consign_core.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar
from consign_core.domain.model import CancelFault, MarketOrder
from consign_core.domain.timing._types import DEFAULT_SAFETY_MARGIN, Decision, SupplierOrderState


__all__ = [
    "DEFAULT_TEMPLATES",
    "DELAY_NOTICE",
    "STOCK_OUT_NOTICE",
    "SUPPLIER_CANCEL_NOTICE",
    "Decider",
    "SupplierSource",
    "WorkflowContext",
]


class Decider(Protocol):
    """Answers "confirm now, wait, or escalate?" for one order at ``now``.

    Built by :func:`~consign_core.domain.workflow.make_decider` from a policy, the trust model and
    the
    cancel-rate ledger; pure given pure inputs. A simulator passes the same kind of callable.
    """

    def __call__(  # noqa: PLR0917 - positional on purpose: called millions of times
        self,
        order: MarketOrder,
        now: datetime,
        supplier_id: str,
        item_id: str,
        supplier_state: SupplierOrderState,
        placed_at: datetime | None,
        alternates: int,
        /,
    ) -> Decision:
        """Decide for ``order`` whose supplier order at ``supplier_id`` is in ``supplier_state``.

        ``alternates`` counts the alternate sources the workflow would still try if this
        supplier failed before confirmation but not after (see
        :attr:`~consign_core.domain.timing.DecisionContext.alternates`). The workflow passes the
        arguments by position (any callable taking these seven works).
        """
        ...


@attrs.frozen(kw_only=True)
class SupplierSource:
    """One place a SKU can be bought: a supplier and its item number."""

    supplier_id: str = attrs.field(validator=non_empty_str)
    """The supplier."""
    item_id: str = attrs.field(validator=non_empty_str)
    """The supplier's item number."""


def _sources(value: Mapping[str, Any]) -> Mapping[str, tuple[SupplierSource, ...]]:
    return MappingProxyType({sku: tuple(choices) for sku, choices in value.items()})


def _str_map(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


def _check_sources(instance: WorkflowContext, attribute: attrs.Attribute[Any], value: Any) -> None:
    for sku, choices in value.items():
        if not choices or not all(isinstance(c, SupplierSource) for c in choices):
            fail(
                instance,
                attribute,
                {sku: choices},
                "a non-empty sequence of SupplierSource per SKU",
            )


DELAY_NOTICE = "delay_notice"
"""Template id: 배송 지연 안내 (the shipment is late)."""
STOCK_OUT_NOTICE = "stock_out"
"""Template id: 품절 안내 (sold out, the order is cancelled, apology)."""
SUPPLIER_CANCEL_NOTICE = "supplier_cancel"
"""Template id: the supplier cancelled for another reason; the order is cancelled, apology."""

DEFAULT_TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        DELAY_NOTICE: (
            "[배송 지연 안내] 고객님, 주문하신 상품(주문번호 {order_id})의 출고가 공급처 사정으로 "
            "늦어지고 있습니다. {ship_by}까지 출고될 수 있도록 최선을 다하겠습니다. "
            "불편을 드려 죄송합니다."
        ),
        STOCK_OUT_NOTICE: (
            "[품절 안내] 고객님, 주문하신 상품(주문번호 {order_id})이 공급처 품절로 발송이 "
            "어렵게 되어 주문을 취소해 드립니다. 결제 금액은 결제하신 수단으로 환불됩니다. "
            "불편을 드려 대단히 죄송합니다."
        ),
        SUPPLIER_CANCEL_NOTICE: (
            "[주문 취소 안내] 고객님, 주문하신 상품(주문번호 {order_id})을 "
            "공급처 사정({reason})으로 발송할 수 없어 주문을 취소해 드립니다. "
            "결제 금액은 결제하신 수단으로 환불됩니다. "
            "불편을 드려 대단히 죄송합니다."
        ),
    }
)
"""The built-in Korean message templates; override per key through ``WorkflowContext.templates``.

Parameters: ``order_id`` and ``ship_by`` (KST date) in every message, ``reason`` (Korean) in
:data:`SUPPLIER_CANCEL_NOTICE`.
"""


@attrs.frozen(kw_only=True)
class WorkflowContext:
    """What :func:`~consign_core.domain.workflow.step` may look at besides the state and the event.

    Build it once; per step only ``now`` changes: use :meth:`at`, which copies cheaply.
    """

    now: datetime = attrs.field(validator=aware_datetime)
    """The time the step runs (the engine's clock, or simulated time)."""
    decide: Decider
    """Confirm now / wait / escalate for one order
    (:func:`~consign_core.domain.workflow.make_decider`)."""
    sources: Mapping[str, tuple[SupplierSource, ...]] = attrs.field(
        factory=dict, converter=_sources, validator=_check_sources
    )
    """SKU -> where to buy it, primary first, then alternates in order of preference."""
    stock: Mapping[tuple[str, str], int] = attrs.field(factory=dict)
    """Last reported stock per ``(supplier_id, item_id)``; absent = unknown. A live mapping the
    engine keeps current; the workflow never places an order it knows cannot be filled."""
    templates: Mapping[str, str] = attrs.field(default=DEFAULT_TEMPLATES, converter=_str_map)
    """Message templates by id (see :data:`DEFAULT_TEMPLATES`)."""
    calendar: BusinessCalendar = DEFAULT_CALENDAR
    """The business calendar (dates in messages are KST)."""
    unconfirmed_supplier_cancel_fault: CancelFault = CancelFault.SELLER
    """Fault recorded when a supplier failure cancels an order *before* confirmation. Seller
    fault by default: a stock-out is the seller's side failing on every Korean market; never
    set it to BUYER to dodge a penalty."""
    reroute_after_confirmation: bool = False
    """Try alternate suppliers also after confirmation (default: cancel, seller fault)."""
    safety_margin: timedelta = DEFAULT_SAFETY_MARGIN
    """An unconfirmed, untracked order is escalated at ``ship_by - safety_margin``."""
    notify_delays: bool = True
    """Send the delay notice (배송 지연 안내) when an order reaches that moment untracked."""
    reask_on_supplier_confirmation: bool = True
    """Ask the policy again when the supplier confirms its order. Set it from the policy with
    :func:`~consign_core.domain.timing.watches_supplier_confirmation` (the built-in policies do not
    watch it, so re-asking them then would only repeat their last answer)."""

    def at(self, now: datetime) -> WorkflowContext:
        """The same context at another time."""
        if now.tzinfo is None or now.utcoffset() is None:
            aware_datetime(self, attrs.fields(WorkflowContext).now, now)
        new = object.__new__(WorkflowContext)
        for name in _CONTEXT_FIELDS:
            object.__setattr__(new, name, getattr(self, name))
        object.__setattr__(new, "now", now)
        return new


_CONTEXT_FIELDS = tuple(f.name for f in attrs.fields(WorkflowContext))
