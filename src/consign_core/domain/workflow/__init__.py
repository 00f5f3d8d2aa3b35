"""One order's life as a pure state machine: ``step(state, event, context) -> (state, commands)``.

The same function runs in production (driven by :mod:`consign_core.engine`), in the simulator
and in backtests; nothing here reads a clock, touches I/O or draws random numbers.

Shape
=====

``step(state: OrderState | None, event: WorkflowEvent, ctx: WorkflowContext) -> StepResult``

- :class:`OrderState` is a small immutable ``NamedTuple`` (its copy with a few fields changed,
  :meth:`OrderState.evolve`, costs about 1 µs; ``_replace`` works as for any named tuple);
  ``state.status`` (:class:`OrderStatus`) is derived from its fields, ``state.is_terminal``
  says the engine may stop polling it. ``state`` is ``None`` only for the order's
  :class:`~consign_core.domain.events.OrderPaid`.
- :data:`WorkflowEvent` is a lifecycle event of :mod:`consign_core.domain.events` or a workflow
  input: :class:`WakeUp` (a wake-up it asked for is due), :class:`StockChanged` /
  :class:`PriceChanged` (the supplier's change feed; deliver them to every open order of
  that item), :class:`CommandFailed` (a command failed for good), :class:`SupplierCancelResult`,
  :class:`BuyerRequestAnswered` and :class:`ManualDecision` (a person's decision).
- :class:`StepResult` is ``(state, commands)``; a :data:`Command` is a frozen attrs value:
  :class:`PlaceSupplierOrder`, :class:`CancelSupplierOrder`, :class:`Acknowledge`,
  :class:`UploadInvoice`, :class:`CancelMarketOrder`, :class:`MessageBuyer`,
  :class:`EscalateOrder`, :class:`ScheduleWakeUp`, :class:`AnswerBuyerRequest`.
- :class:`WorkflowContext` carries ``now``, the ``decide`` callable (see
  :func:`make_decider`: policy + trust model + cancel-rate ledger, called through
  :func:`~consign_core.domain.timing.decide_safely`), the SKU -> supplier sources (primary first,
  then alternates), the last reported stock per item, the message
  templates (:data:`DEFAULT_TEMPLATES`) and the calendar. ``ctx.at(now)`` copies it cheaply.

Paths
=====

- **Intake.** ``OrderPaid`` -> :class:`PlaceSupplierOrder` at the first source not known to be
  sold out, with a deterministic :func:`idempotency_key` ``(ref, attempt)``, plus a deadline
  guard wake-up at ``ship_by - safety_margin``. No source mapped, or a multi-line order:
  escalate.
- **Decide.** Once the supplier order is placed (and again when the supplier accepts it, and
  at each :class:`WakeUp`) the policy answers: ``ConfirmNow`` -> :class:`Acknowledge`;
  ``WaitForInvoice`` -> :class:`ScheduleWakeUp` at ``recheck_at``; ``Escalate`` ->
  :class:`EscalateOrder` (plus the delay notice when the deadline is near). An escalated order
  waits for a person, for tracking or for a cancellation; the policy is not asked again. A
  policy that raises or returns something other than a decision is a
  :class:`~consign_core.errors.PolicyError` (naming the policy and the order): that order is
  escalated with it as the reason, and the other orders go on.
- **Tracking.** ``SupplierInvoiced`` -> :class:`Acknowledge` if not yet, then (after
  ``MarketAcknowledged``) :class:`UploadInvoice` (the market adapter maps the courier).
- **Supplier cancels before confirmation** -> the next mapped alternate supplier, or the
  buyer message (:data:`STOCK_OUT_NOTICE`) + :class:`CancelMarketOrder` with the supplier's
  honest reason (a stock-out is always ``STOCK_OUT``; fault
  ``ctx.unconfirmed_supplier_cancel_fault``, SELLER by default).
- **Supplier cancels after confirmation** -> buyer message + cancel, fault SELLER (the ledger
  counts it); alternates only with ``ctx.reroute_after_confirmation``. A cancel that races an
  acknowledgement in flight waits for the acknowledgement's outcome to pick the path.
- **Buyer cancels before confirmation** -> :class:`CancelSupplierOrder` (a request the supplier
  may have to accept) + :class:`AnswerBuyerRequest` ``ACCEPT_CANCEL``; fault BUYER.
- **Buyer asks to stop the shipment after confirmation** -> cancel the supplier order; once it
  is cancelled answer ``STOP_SHIPMENT`` (fault BUYER); if the goods ship anyway answer
  ``ALREADY_SHIPPED`` with the waybill.
- **Sold-out notice** (``StockChanged`` below the order's quantity) for an unconfirmed order:
  never confirmed before tracking from then on. With no supplier order yet, the order goes to
  the alternate supplier or to the buyer message + cancel path. A supplier order placed or
  being placed is kept, accepted or not: Domeme deducts stock when an order is paid, so a
  reading after the placement includes the order's own units and "sold out" may be its own
  purchase of the last ones. The supplier's answer decides: tracking -> confirm and upload;
  its own cancel -> the supplier-cancel path above (rerouted before confirmation). **Price
  rise** above the sale price before a supplier order exists: escalate.
- **Deadline.** At ``ship_by - safety_margin`` an order still untracked is escalated and the
  buyer gets the delay notice (:data:`DELAY_NOTICE`) once.
- **Orphans.** A supplier order the order no longer wants (an old attempt found after a crash)
  is cancelled at once; a shipment of one is escalated.

Terminal statuses are SHIPPED, DELIVERED and CANCELLED (with ``state.cancellation`` saying who
and why); an escalated order is never terminal: a :class:`ManualDecision` resolves it.

Driving it from a simulator
===========================

Keep one ``OrderState`` per order and a time-ordered event queue. For each event at time
``t``: ``result = step(state, event, ctx.at(t))``; store ``result.state``; for each command,
push ``WakeUp(ref, at)`` for :class:`ScheduleWakeUp`, and schedule the simulated market's or
supplier's answer for the others (``SupplierOrderPlaced`` for a placement,
``MarketAcknowledged`` for an acknowledgement, ``InvoiceUploaded`` for an upload,
``OrderCancelled`` for a market cancel, ``SupplierCancelResult`` for a supplier cancel,
``BuyerRequestAnswered`` for an answer). Stale wake-ups are ignored, so the queue never needs
cleaning. Feed the same lifecycle events to the trust model and the ledger that ``decide``
reads (:func:`make_decider`), in time order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeAlias

from consign_core._exports import publish
from consign_core.domain.cancel_rate import Headroom
from consign_core.domain.model import CancelFault, MarketOrder
from consign_core.domain.rules import RuleProfile
from consign_core.domain.timing._types import (
    DEFAULT_SAFETY_MARGIN,
    ConfirmationPolicy,
    Decision,
    DecisionContext,
    SupplierOrderState,
    decide_safely,
)
from consign_core.domain.trust import TrustAssessment
from consign_core.domain.workflow._step import step
from consign_core.domain.workflow._types import (
    DEFAULT_TEMPLATES,
    DELAY_NOTICE,
    STOCK_OUT_NOTICE,
    SUPPLIER_CANCEL_NOTICE,
    TERMINAL_STATUSES,
    Acknowledge,
    AnswerBuyerRequest,
    BuyerRequestAnswer,
    BuyerRequestAnswered,
    BuyerRequestKind,
    CancelMarketOrder,
    CancelPurpose,
    CancelSupplierOrder,
    Command,
    CommandFailed,
    CommandKind,
    Decider,
    EscalateOrder,
    ManualAction,
    ManualDecision,
    MessageBuyer,
    OrderState,
    OrderStatus,
    PlaceSupplierOrder,
    PriceChanged,
    Progress,
    ScheduleWakeUp,
    StepResult,
    StockChanged,
    SupplierCancelOutcome,
    SupplierCancelResult,
    SupplierCancelState,
    SupplierSource,
    UploadInvoice,
    WakeUp,
    WorkflowContext,
    WorkflowEvent,
    idempotency_key,
)
from consign_core.errors import ConfigurationError


__all__ = [
    "DEFAULT_TEMPLATES",
    "DELAY_NOTICE",
    "STOCK_OUT_NOTICE",
    "SUPPLIER_CANCEL_NOTICE",
    "TERMINAL_STATUSES",
    "Acknowledge",
    "AnswerBuyerRequest",
    "BuyerRequestAnswer",
    "BuyerRequestAnswered",
    "BuyerRequestKind",
    "CancelMarketOrder",
    "CancelPurpose",
    "CancelSupplierOrder",
    "Command",
    "CommandFailed",
    "CommandKind",
    "Decider",
    "EscalateOrder",
    "HeadroomSource",
    "ManualAction",
    "ManualDecision",
    "MessageBuyer",
    "OrderState",
    "OrderStatus",
    "PlaceSupplierOrder",
    "PriceChanged",
    "Progress",
    "ScheduleWakeUp",
    "SourceSpec",
    "StepResult",
    "StockChanged",
    "SupplierCancelOutcome",
    "SupplierCancelResult",
    "SupplierCancelState",
    "SupplierSource",
    "TrustSource",
    "UploadInvoice",
    "WakeUp",
    "WorkflowContext",
    "WorkflowEvent",
    "idempotency_key",
    "make_decider",
    "sources_from",
    "step",
]


class TrustSource(Protocol):
    """The trust-model part :func:`make_decider` uses
    (:class:`~consign_core.domain.trust.TrustModel`)."""

    def assess(
        self,
        supplier_id: str,
        quantity: int,
        now: datetime,
        deadline: datetime,
        *,
        placed_at: datetime | None = None,
        item_id: str | None = None,
    ) -> TrustAssessment:
        """Assess an order of ``quantity`` units from ``supplier_id`` at ``now``."""
        ...


class HeadroomSource(Protocol):
    """What :func:`make_decider` needs from a ledger
    (:class:`~consign_core.domain.cancel_rate.Ledger`)."""

    def headroom(self, now: datetime, order: MarketOrder | None = None) -> Headroom:
        """How many more seller-fault cancels like ``order`` reach the thresholds at ``now``."""
        ...


def make_decider(
    policy: ConfirmationPolicy,
    trust: TrustSource,
    ledger: HeadroomSource,
    profile: RuleProfile,
    *,
    margin: timedelta = DEFAULT_SAFETY_MARGIN,
    unconfirmed_cancel_fault: CancelFault = CancelFault.SELLER,
) -> Decider:
    """Build the ``decide`` callable of a :class:`WorkflowContext`.

    For each question it asks ``trust`` about the supplier (deadline: the order's ``ship_by``),
    ``ledger`` for the seller's headroom, builds the
    :class:`~consign_core.domain.timing.DecisionContext` and calls ``policy`` through
    :func:`~consign_core.domain.timing.decide_safely` (which enforces the rules every policy keeps).
    The engine and the simulator both use it, so they decide identically.

    ``unconfirmed_cancel_fault`` is the fault the workflow records when a supplier failure
    cancels an unconfirmed order (:attr:`WorkflowContext.unconfirmed_supplier_cancel_fault`);
    with the profile it tells the policy whether such a cancel still counts against the seller.
    """
    unconfirmed_counts = (
        unconfirmed_cancel_fault is CancelFault.SELLER or profile.stock_out_counts_any_fault
    )

    def decide(  # noqa: PLR0917 - the Decider protocol is positional for speed
        order: MarketOrder,
        now: datetime,
        supplier_id: str,
        item_id: str,
        supplier_state: SupplierOrderState,
        placed_at: datetime | None,
        alternates: int = 0,
    ) -> Decision:
        assessment = trust.assess(
            supplier_id,
            order.quantity,
            now,
            order.ship_by,
            placed_at=placed_at,
            item_id=item_id,
        )
        context = DecisionContext(
            order=order,
            now=now,
            trust=assessment,
            headroom=ledger.headroom(now, order),
            profile=profile,
            supplier_state=supplier_state,
            placed_at=placed_at,
            alternates=alternates,
            unconfirmed_cancel_counts=unconfirmed_counts,
        )
        return decide_safely(policy, context, margin=margin)

    return decide


def sources_from(mapping: Mapping[str, Any]) -> dict[str, tuple[SupplierSource, ...]]:
    """Build ``WorkflowContext.sources`` from plain data.

    Each SKU maps to one :data:`SourceSpec` (a :class:`SupplierSource` or a
    ``(supplier_id, item_id)`` pair) or a sequence of them, primary first::

        sources_from({"MUG-1": [("S1", "1001"), ("S2", "88")], "CUP-2": ("S1", "1002")})

    Raises :class:`~consign_core.errors.ConfigurationError` naming the SKU for anything else.
    """
    out: dict[str, tuple[SupplierSource, ...]] = {}
    for sku, value in mapping.items():
        specs = [value] if _is_single(value) else value
        try:
            sources = tuple(_source(spec) for spec in specs)
        except (TypeError, ValueError) as exc:
            msg = f"sources[{sku!r}] must be (supplier_id, item_id) pairs, got {value!r}"
            raise ConfigurationError(msg) from exc
        if not sources:
            msg = f"sources[{sku!r}] is empty; map the SKU to at least one supplier item"
            raise ConfigurationError(msg)
        out[sku] = sources
    return out


SourceSpec: TypeAlias = "SupplierSource | tuple[str, str]"
"""One source in :func:`sources_from`: a :class:`SupplierSource` or ``(supplier_id, item_id)``."""


def _is_single(value: object) -> bool:
    if isinstance(value, SupplierSource):
        return True
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(p, str) for p in value)


def _source(spec: object) -> SupplierSource:
    if isinstance(spec, SupplierSource):
        return spec
    if not isinstance(spec, tuple) or not _is_single(spec):
        msg = f"not a (supplier_id, item_id) pair: {spec!r}"
        raise TypeError(msg)
    return SupplierSource(supplier_id=spec[0], item_id=spec[1])


publish(__name__, __all__)
