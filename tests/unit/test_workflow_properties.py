"""Properties of the workflow under random event orders (Hypothesis)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.domain.events import (
    BuyerCancelRequested,
    MarketAcknowledged,
    OrderCancelled,
    OrderPaid,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import CancelFault, Cancellation, CancelReason, Courier, Tracking
from consign_core.domain.timing import (
    ConfirmNow,
    Decision,
    Escalate,
    SupplierOrderState,
    WaitForInvoice,
)
from consign_core.domain.workflow import (
    TERMINAL_STATUSES,
    Acknowledge,
    BuyerRequestAnswer,
    BuyerRequestAnswered,
    CancelMarketOrder,
    CancelPurpose,
    CommandFailed,
    CommandKind,
    ManualDecision,
    OrderState,
    OrderStatus,
    PlaceSupplierOrder,
    Progress,
    StockChanged,
    SupplierCancelOutcome,
    SupplierCancelResult,
    SupplierCancelState,
    WakeUp,
    WorkflowContext,
    WorkflowEvent,
    sources_from,
    step,
)
from consign_core.testing import T0, make_order
from tests.strategies import examples


SOURCES = sources_from({"SKU-1": [("S1", "I1"), ("S2", "I2"), ("S3", "I3")]})
REASONS = st.sampled_from(list(CancelReason))
OPEN = {SupplierOrderState.PLACED, SupplierOrderState.CONFIRMED, SupplierOrderState.INVOICED}


def decisions() -> st.SearchStrategy[Decision]:
    return st.sampled_from(
        [
            ConfirmNow(reason="c"),
            WaitForInvoice(
                until=T0 + timedelta(hours=30), recheck_at=T0 + timedelta(hours=2), reason="w"
            ),
            Escalate(reason="e"),
        ]
    )


@st.composite
def next_event(draw: st.DrawFn, state: OrderState, now_hours: int) -> WorkflowEvent:
    ref = state.order.ref
    at = T0 + timedelta(hours=now_hours)
    current = state.supplier_order_id or "D0"
    number = draw(st.sampled_from([current, current, "D-stale"]))
    supplier = state.supplier_id or "S1"
    item = state.item_id or "I1"
    options: list[WorkflowEvent] = [
        SupplierOrderPlaced(
            ref=ref,
            at=at,
            supplier_id=supplier,
            supplier_order_id=draw(st.sampled_from(["D1", "D2", "D3", "D4"])),
            item_id=item,
            quantity=1,
        ),
        SupplierConfirmed(ref=ref, at=at, supplier_id=supplier, supplier_order_id=number),
        SupplierInvoiced(
            ref=ref,
            at=at,
            supplier_id=supplier,
            supplier_order_id=number,
            tracking=Tracking(courier=Courier.CJ, number="1234567890"),
        ),
        SupplierCancelled(
            ref=ref, at=at, supplier_id=supplier, supplier_order_id=number, reason=draw(REASONS)
        ),
        MarketAcknowledged(ref=ref, at=at),
        BuyerCancelRequested(ref=ref, at=at, request_id=draw(st.sampled_from([None, "R1"]))),
        OrderCancelled(
            ref=ref,
            cancellation=Cancellation(
                fault=draw(st.sampled_from(list(CancelFault))), reason=draw(REASONS), at=at
            ),
        ),
        WakeUp(ref=ref, at=state.wake_at or at),
        StockChanged(supplier_id=supplier, item_id=item, stock=draw(st.integers(0, 3)), at=at),
        CommandFailed(
            ref=ref,
            at=at,
            kind=draw(st.sampled_from(list(CommandKind))),
            out_of_stock=draw(st.booleans()),
        ),
        SupplierCancelResult(
            ref=ref,
            at=at,
            supplier_order_id=number,
            outcome=draw(st.sampled_from(list(SupplierCancelOutcome))),
        ),
        BuyerRequestAnswered(
            ref=ref, at=at, request_id="R1", answer=draw(st.sampled_from(list(BuyerRequestAnswer)))
        ),
    ]
    return draw(st.sampled_from(options))


@settings(max_examples=examples(300))
@given(st.data())
def test_random_event_orders_keep_the_safety_invariants(data: st.DataObject) -> None:
    answers = data.draw(st.lists(decisions(), min_size=1, max_size=5))
    counter = iter(range(10_000))

    def decide(*_: object) -> Decision:
        return answers[next(counter) % len(answers)]

    ctx = WorkflowContext(now=T0, decide=decide, sources=SOURCES)
    order = make_order("77")
    result = step(None, OrderPaid(order=order), ctx)
    state = result.state
    keys = [c.idempotency_key for c in result.commands if isinstance(c, PlaceSupplierOrder)]
    attempts = [c.attempt for c in result.commands if isinstance(c, PlaceSupplierOrder)]
    for hour in range(data.draw(st.integers(1, 40))):
        event = data.draw(next_event(state, hour))
        before = state
        result = step(state, event, ctx.at(T0 + timedelta(hours=hour)))
        state = result.state
        state.status  # noqa: B018 - never raises
        places = [c for c in result.commands if isinstance(c, PlaceSupplierOrder)]
        acks = [c for c in result.commands if isinstance(c, Acknowledge)]
        cancels = [c for c in result.commands if isinstance(c, CancelMarketOrder)]
        # Never two supplier orders for one attempt, never one while another is pending.
        assert len(places) <= 1
        placement_failed = (
            isinstance(event, CommandFailed) and event.kind is CommandKind.PLACE_SUPPLIER_ORDER
        )
        for place in places:
            assert not before.place_pending or placement_failed
            assert place.idempotency_key not in keys
            keys.append(place.idempotency_key)
            attempts.append(place.attempt)
        assert attempts == list(range(1, len(attempts) + 1))
        # Never a confirmation without a live supplier order (never after a supplier cancel).
        if acks and not isinstance(event, ManualDecision):
            assert state.supplier_state in OPEN, (event, before, state)
            assert not (
                state.stock_out_known and state.supplier_state is not SupplierOrderState.INVOICED
            )
            assert before.status not in (OrderStatus.CANCELLED, OrderStatus.CANCELLING)
        # A cancellation the supplier caused keeps its reason and is never the buyer's fault.
        for cancel in cancels:
            assert cancel.cancellation.fault is not CancelFault.BUYER
            if isinstance(event, SupplierCancelled):
                assert cancel.cancellation.reason is event.reason
        # A cancelled order never orders or confirms again.
        if before.status is OrderStatus.CANCELLED:
            assert not places
            assert not acks


def _status_by_definition(state: OrderState) -> OrderStatus:  # noqa: PLR0911 - as documented
    """The status as the docs define it, written plainly (sets, no shortcuts)."""
    if state.market_cancel is Progress.DONE:
        return OrderStatus.CANCELLED if state.supplier_settled else OrderStatus.CANCELLING
    if state.delivered:
        return OrderStatus.DELIVERED
    if state.invoice is Progress.DONE:
        return OrderStatus.SHIPPED
    order_cancels = {CancelPurpose.BUYER, CancelPurpose.PERSON, CancelPurpose.MARKET}
    if state.market_cancel is Progress.PENDING or state.cancel_purpose in order_cancels:
        return OrderStatus.CANCELLING
    if state.ack is Progress.DONE:
        return OrderStatus.CONFIRMED
    if state.supplier_state in {SupplierOrderState.NOT_PLACED, SupplierOrderState.CANCELLED}:
        return OrderStatus.PLACING
    return OrderStatus.WAITING


def test_status_and_terminality_agree_with_their_definition_in_every_combination() -> None:
    base = OrderState(order=make_order("1"))
    for fields in itertools.product(
        Progress,
        Progress,
        Progress,
        [None, *CancelPurpose],
        SupplierOrderState,
        SupplierCancelState,
        [False, True],
        [False, True],
        [None, "needs a person"],
    ):
        state = base._replace(**dict(zip(_STATUS_FIELDS, fields, strict=True)))
        assert state.status is _status_by_definition(state), state
        assert state.is_terminal == (
            state.escalation is None and state.status in TERMINAL_STATUSES
        ), state


_STATUS_FIELDS = (
    "market_cancel",
    "invoice",
    "ack",
    "cancel_purpose",
    "supplier_state",
    "supplier_cancel",
    "delivered",
    "place_pending",
    "escalation",
)
