"""The order workflow: every path of ``step``, with stand-in decisions (no trust model needed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from consign_core.domain.events import (
    BuyerCancelRequested,
    Delivered,
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
    CancelReason,
    Courier,
    MarketOrder,
    OrderRef,
    Tracking,
)
from consign_core.domain.timing import (
    ConfirmNow,
    Decision,
    Escalate,
    SupplierOrderState,
    WaitForInvoice,
    last_safe_moment,
)
from consign_core.domain.workflow import (
    DEFAULT_TEMPLATES,
    DELAY_NOTICE,
    STOCK_OUT_NOTICE,
    SUPPLIER_CANCEL_NOTICE,
    Acknowledge,
    AnswerBuyerRequest,
    BuyerRequestAnswer,
    BuyerRequestAnswered,
    CancelMarketOrder,
    CancelPurpose,
    CancelSupplierOrder,
    Command,
    CommandFailed,
    CommandKind,
    EscalateOrder,
    ManualAction,
    ManualDecision,
    MessageBuyer,
    OrderState,
    OrderStatus,
    PlaceSupplierOrder,
    PriceChanged,
    ScheduleWakeUp,
    StockChanged,
    SupplierCancelOutcome,
    SupplierCancelResult,
    SupplierCancelState,
    UploadInvoice,
    WakeUp,
    WorkflowContext,
    WorkflowEvent,
    idempotency_key,
    sources_from,
    step,
)
from consign_core.errors import ConfigurationError, InvalidTransitionError, ValidationError
from consign_core.testing import T0, make_order


HOUR = timedelta(hours=1)
SOURCES = sources_from({"SKU-1": [("S1", "I1"), ("S2", "I2")], "SOLO": ("S1", "I9")})

DecideFn = Callable[
    [MarketOrder, datetime, str, str, SupplierOrderState, datetime | None], Decision
]


def confirm_now(*_: object) -> Decision:
    return ConfirmNow(reason="trusted supplier")


def wait_an_hour(order: MarketOrder, now: datetime, *_: object) -> Decision:
    until = order.ship_by - timedelta(hours=4)
    if now >= until:
        return Escalate(reason="deadline near")
    return WaitForInvoice(
        until=until, recheck_at=min(until, now + HOUR), reason="wait for tracking"
    )


def escalate(*_: object) -> Decision:
    return Escalate(reason="group order from an unproven supplier")


def assert_honest_stock_out(message: Command, cancel: Command) -> None:
    """The buyer hears of the stock-out first, then the order is cancelled as one, the
    seller's fault (never filed under another reason)."""
    assert isinstance(message, MessageBuyer)
    assert message.template_id == STOCK_OUT_NOTICE
    assert isinstance(cancel, CancelMarketOrder)
    assert cancel.cancellation.reason is CancelReason.STOCK_OUT
    assert cancel.cancellation.fault is CancelFault.SELLER


class Flow:
    """Drives one order through ``step`` and keeps every command it emitted."""

    def __init__(
        self,
        decide: DecideFn = confirm_now,
        *,
        sku: str = "SKU-1",
        quantity: int = 1,
        stock: dict[tuple[str, str], int] | None = None,
        **context: object,
    ) -> None:
        self.ctx = WorkflowContext(
            now=T0, decide=decide, sources=SOURCES, stock=stock or {}, **context
        )
        self.order = make_order("1001", sku=sku, quantity=quantity)
        self.ref = self.order.ref
        self.now = T0
        self.state: OrderState | None = None
        self.commands: list[Command] = []
        self.last: tuple[Command, ...] = ()

    def feed(self, event: WorkflowEvent, *, at: datetime | None = None) -> tuple[Command, ...]:
        if at is not None:
            self.now = at
        result = step(self.state, event, self.ctx.at(self.now))
        self.state = result.state
        self.last = result.commands
        self.commands.extend(result.commands)
        return result.commands

    @property
    def s(self) -> OrderState:
        assert self.state is not None
        return self.state

    def paid(self) -> tuple[Command, ...]:
        return self.feed(OrderPaid(order=self.order))

    def placed(
        self, supplier_id: str = "S1", item_id: str = "I1", number: str = "D1"
    ) -> tuple[Command, ...]:
        return self.feed(
            SupplierOrderPlaced(
                ref=self.ref,
                at=self.now,
                supplier_id=supplier_id,
                supplier_order_id=number,
                item_id=item_id,
                quantity=self.order.quantity,
            )
        )

    def invoiced(
        self, number: str = "D1", courier: Courier = Courier.CJ, supplier_id: str = "S1"
    ) -> tuple[Command, ...]:
        return self.feed(
            SupplierInvoiced(
                ref=self.ref,
                at=self.now,
                supplier_id=supplier_id,
                supplier_order_id=number,
                tracking=Tracking(courier=courier, number="600000000001"),
            )
        )

    def supplier_cancels(
        self, number: str = "D1", reason: CancelReason = CancelReason.STOCK_OUT
    ) -> tuple[Command, ...]:
        return self.feed(
            SupplierCancelled(
                ref=self.ref, at=self.now, supplier_id="S1", supplier_order_id=number, reason=reason
            )
        )

    def acked(self) -> tuple[Command, ...]:
        return self.feed(MarketAcknowledged(ref=self.ref, at=self.now))

    def of(self, kind: type[Command]) -> list[Command]:
        return [c for c in self.commands if isinstance(c, kind)]


def kinds(commands: tuple[Command, ...]) -> list[type[Command]]:
    return [type(c) for c in commands]


# --------------------------------------------------------------------------------------
# Intake and the happy paths
# --------------------------------------------------------------------------------------


def test_a_paid_order_is_ordered_from_the_primary_supplier_with_a_deterministic_key() -> None:
    flow = Flow()
    commands = flow.paid()
    place = commands[0]
    assert isinstance(place, PlaceSupplierOrder)
    assert (place.supplier_id, place.item_id, place.quantity, place.attempt) == ("S1", "I1", 1, 1)
    assert place.idempotency_key == idempotency_key(flow.ref, 1) == "coupang:1001:1"
    assert isinstance(commands[1], ScheduleWakeUp)
    assert flow.s.status is OrderStatus.PLACING


def test_a_trusted_supplier_is_confirmed_once_placed_then_tracking_is_uploaded_mapped() -> None:
    flow = Flow(confirm_now)
    flow.paid()
    assert kinds(flow.placed()) == [Acknowledge]
    assert flow.s.status is OrderStatus.WAITING
    flow.acked()
    assert flow.s.status is OrderStatus.CONFIRMED
    [upload] = flow.invoiced(courier=Courier.CJ)
    assert isinstance(upload, UploadInvoice)
    assert upload.tracking == Tracking(courier=Courier.CJ, number="600000000001")
    flow.feed(InvoiceUploaded(ref=flow.ref, at=flow.now, tracking=upload.tracking))
    assert flow.s.status is OrderStatus.SHIPPED
    assert flow.s.is_terminal
    flow.feed(Delivered(ref=flow.ref, at=flow.now + 24 * HOUR))
    assert flow.s.status is OrderStatus.DELIVERED


def test_waiting_orders_are_confirmed_only_when_tracking_arrives_then_uploaded_after_the_ack() -> (
    None
):
    flow = Flow(wait_an_hour)
    flow.paid()
    [wake] = flow.placed()
    assert isinstance(wake, ScheduleWakeUp)
    assert wake.at == T0 + HOUR
    assert kinds(flow.invoiced()) == [Acknowledge]
    assert flow.s.status is OrderStatus.WAITING
    assert kinds(flow.acked()) == [UploadInvoice]


def test_a_wake_up_asks_the_policy_again_and_stale_wake_ups_are_ignored() -> None:
    calls: list[datetime] = []

    def decide(order: MarketOrder, now: datetime, *rest: object) -> Decision:
        calls.append(now)
        if len(calls) < 2:
            return WaitForInvoice(until=now + 5 * HOUR, recheck_at=now + HOUR, reason="wait")
        return ConfirmNow(reason="confident now")

    flow = Flow(decide)  # type: ignore[arg-type]
    flow.paid()
    flow.placed()
    assert flow.feed(WakeUp(ref=flow.ref, at=T0 + HOUR / 2), at=T0 + HOUR / 2) == ()
    assert kinds(flow.feed(WakeUp(ref=flow.ref, at=T0 + HOUR), at=T0 + HOUR)) == [Acknowledge]
    assert calls == [T0, T0 + HOUR]
    assert flow.feed(WakeUp(ref=flow.ref, at=T0 + HOUR), at=T0 + HOUR) == ()


def test_the_supplier_accepting_the_order_asks_the_policy_again() -> None:
    answers = iter(
        [
            WaitForInvoice(until=T0 + 9 * HOUR, recheck_at=T0 + 3 * HOUR, reason="w"),
            ConfirmNow(reason="c"),
        ]
    )
    flow = Flow(lambda *_: next(answers))
    flow.paid()
    flow.placed()
    commands = flow.feed(
        SupplierConfirmed(ref=flow.ref, at=T0, supplier_id="S1", supplier_order_id="D1")
    )
    assert kinds(commands) == [Acknowledge]


def test_a_policy_that_does_not_watch_supplier_confirmation_is_not_asked_again() -> None:
    asked: list[SupplierOrderState] = []

    def decide(
        _o: MarketOrder, _n: datetime, _s: str, _i: str, state: SupplierOrderState, *_: object
    ) -> Decision:
        asked.append(state)
        return WaitForInvoice(until=T0 + 9 * HOUR, recheck_at=T0 + 3 * HOUR, reason="w")

    flow = Flow(decide, reask_on_supplier_confirmation=False)
    flow.paid()
    flow.placed()
    commands = flow.feed(
        SupplierConfirmed(ref=flow.ref, at=T0, supplier_id="S1", supplier_order_id="D1")
    )
    assert commands == ()
    assert asked == [SupplierOrderState.PLACED]  # once, at placement
    assert flow.s.supplier_state is SupplierOrderState.CONFIRMED  # still recorded
    assert flow.s.wake_at == T0 + 3 * HOUR  # the recheck it asked for stands
    flow.feed(WakeUp(ref=flow.ref, at=T0 + 3 * HOUR), at=T0 + 3 * HOUR)
    assert asked == [SupplierOrderState.PLACED, SupplierOrderState.CONFIRMED]


def test_a_known_stock_out_at_intake_skips_to_the_alternate_supplier() -> None:
    flow = Flow(stock={("S1", "I1"): 0})
    place = flow.paid()[0]
    assert isinstance(place, PlaceSupplierOrder)
    assert (place.supplier_id, place.item_id) == ("S2", "I2")
    assert flow.s.candidate == 1


def test_every_source_known_sold_out_cancels_at_once_as_a_stock_out() -> None:
    flow = Flow(stock={("S1", "I1"): 0, ("S2", "I2"): 0})
    message, cancel = flow.paid()
    assert_honest_stock_out(message, cancel)


@pytest.mark.parametrize(
    ("order_kwargs", "expected"),
    [({"sku": "UNMAPPED"}, "no supplier is mapped")],
)
def test_an_order_without_a_mapped_supplier_is_escalated(
    order_kwargs: dict[str, str], expected: str
) -> None:
    flow = Flow(**order_kwargs)  # type: ignore[arg-type]
    [escalation] = flow.paid()
    assert isinstance(escalation, EscalateOrder)
    assert expected in escalation.reason
    assert not flow.s.is_terminal


def test_a_multi_line_order_is_escalated() -> None:
    order = make_order("2002")
    two = MarketOrder(
        ref=order.ref,
        lines=[*order.lines, *order.lines],
        paid_at=order.paid_at,
        ship_by=order.ship_by,
    )  # type: ignore[list-item]
    ctx = WorkflowContext(now=T0, decide=confirm_now, sources=SOURCES)
    result = step(None, OrderPaid(order=two), ctx)
    assert kinds(result.commands) == [EscalateOrder]


# --------------------------------------------------------------------------------------
# Supplier cancellations
# --------------------------------------------------------------------------------------


def test_a_supplier_cancel_before_confirmation_goes_to_the_alternate_with_a_new_key() -> None:
    flow = Flow(wait_an_hour)
    flow.paid()
    flow.placed()
    place = flow.supplier_cancels()[0]
    assert isinstance(place, PlaceSupplierOrder)
    assert (place.supplier_id, place.attempt, place.idempotency_key) == ("S2", 2, "coupang:1001:2")
    assert flow.s.status is OrderStatus.PLACING


def test_a_supplier_cancel_without_alternate_messages_the_buyer_and_cancels_honestly() -> None:
    flow = Flow(wait_an_hour, sku="SOLO")
    flow.paid()
    flow.placed(item_id="I9")
    message, cancel = flow.supplier_cancels()
    assert isinstance(message, MessageBuyer)
    assert message.template_id == STOCK_OUT_NOTICE
    assert "품절" in message.render(DEFAULT_TEMPLATES)
    assert isinstance(cancel, CancelMarketOrder)
    assert cancel.cancellation.reason is CancelReason.STOCK_OUT
    assert cancel.cancellation.fault is CancelFault.SELLER
    assert flow.s.status is OrderStatus.CANCELLING
    flow.feed(OrderCancelled(ref=flow.ref, cancellation=cancel.cancellation))
    assert flow.s.status is OrderStatus.CANCELLED
    assert flow.s.is_terminal


def test_the_pre_confirmation_fault_is_configurable_but_the_reason_stays_stock_out() -> None:
    flow = Flow(wait_an_hour, sku="SOLO", unconfirmed_supplier_cancel_fault=CancelFault.MARKET)
    flow.paid()
    flow.placed(item_id="I9")
    cancel = flow.supplier_cancels()[1]
    assert isinstance(cancel, CancelMarketOrder)
    assert cancel.cancellation.fault is CancelFault.MARKET
    assert cancel.cancellation.reason is CancelReason.STOCK_OUT


def test_a_supplier_cancel_for_another_reason_uses_the_generic_apology() -> None:
    flow = Flow(wait_an_hour, sku="SOLO")
    flow.paid()
    flow.placed(item_id="I9")
    message, cancel = flow.supplier_cancels(reason=CancelReason.PRICE_ERROR)
    assert isinstance(message, MessageBuyer)
    assert message.template_id == SUPPLIER_CANCEL_NOTICE
    assert "가격 오류" in message.render(DEFAULT_TEMPLATES)
    assert isinstance(cancel, CancelMarketOrder)
    assert cancel.cancellation.reason is CancelReason.PRICE_ERROR


def test_a_supplier_cancel_after_confirmation_is_a_seller_fault_cancel_not_a_reroute() -> None:
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()
    flow.acked()
    message, cancel = flow.supplier_cancels()
    assert isinstance(message, MessageBuyer)
    assert isinstance(cancel, CancelMarketOrder)
    assert cancel.cancellation.fault is CancelFault.SELLER
    assert cancel.cancellation.reason is CancelReason.STOCK_OUT
    assert not flow.of(PlaceSupplierOrder)[1:]


def test_rerouting_after_confirmation_can_be_switched_on() -> None:
    flow = Flow(confirm_now, reroute_after_confirmation=True)
    flow.paid()
    flow.placed()
    flow.acked()
    [place, *_] = flow.supplier_cancels()
    assert isinstance(place, PlaceSupplierOrder)
    assert place.supplier_id == "S2"


@pytest.mark.parametrize(
    ("ack_succeeds", "expected"), [(True, CancelMarketOrder), (False, PlaceSupplierOrder)]
)
def test_a_supplier_cancel_racing_the_acknowledgement_waits_for_its_outcome(
    ack_succeeds: bool, expected: type[Command]
) -> None:
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()  # -> Acknowledge in flight
    assert flow.supplier_cancels() == ()
    if ack_succeeds:
        commands = flow.acked()
    else:
        commands = flow.feed(
            CommandFailed(ref=flow.ref, at=T0, kind=CommandKind.ACKNOWLEDGE, message="x")
        )
    assert expected in kinds(commands)
    assert Acknowledge not in kinds(commands)


def test_a_sold_out_placement_goes_to_the_alternate() -> None:
    flow = Flow()
    flow.paid()
    [place, *_] = flow.feed(
        CommandFailed(ref=flow.ref, at=T0, kind=CommandKind.PLACE_SUPPLIER_ORDER, out_of_stock=True)
    )
    assert isinstance(place, PlaceSupplierOrder)
    assert place.supplier_id == "S2"
    assert place.attempt == 2


def test_a_placement_refused_for_another_reason_is_escalated_and_a_person_can_retry() -> None:
    flow = Flow()
    flow.paid()
    [escalation] = flow.feed(
        CommandFailed(
            ref=flow.ref,
            at=T0,
            kind=CommandKind.PLACE_SUPPLIER_ORDER,
            message="TOO_LESS_EMONEY_ERROR",
        )
    )
    assert isinstance(escalation, EscalateOrder)
    assert "TOO_LESS_EMONEY_ERROR" in escalation.reason
    [place, *_] = flow.feed(ManualDecision(ref=flow.ref, at=T0, action=ManualAction.REDECIDE))
    assert isinstance(place, PlaceSupplierOrder)
    assert (place.supplier_id, place.attempt) == ("S1", 2)


# --------------------------------------------------------------------------------------
# Buyer requests
# --------------------------------------------------------------------------------------


def test_a_buyer_cancel_before_confirmation_cancels_the_supplier_order_without_penalty() -> None:
    flow = Flow(wait_an_hour)
    flow.paid()
    flow.placed()
    cancel, answer = flow.feed(BuyerCancelRequested(ref=flow.ref, at=T0, request_id="R1"))
    assert isinstance(cancel, CancelSupplierOrder)
    assert cancel.supplier_order_id == "D1"
    assert isinstance(answer, AnswerBuyerRequest)
    assert answer.answer is BuyerRequestAnswer.ACCEPT_CANCEL
    flow.feed(
        SupplierCancelResult(
            ref=flow.ref, at=T0, supplier_order_id="D1", outcome=SupplierCancelOutcome.CANCELLED
        )
    )
    assert flow.s.status is OrderStatus.CANCELLING
    flow.feed(
        BuyerRequestAnswered(
            ref=flow.ref, at=T0, request_id="R1", answer=BuyerRequestAnswer.ACCEPT_CANCEL
        )
    )
    assert flow.s.status is OrderStatus.CANCELLED
    assert flow.s.cancellation is not None
    assert flow.s.cancellation.fault is CancelFault.BUYER
    assert not flow.of(Acknowledge)


def test_a_buyer_cancel_before_the_supplier_order_exists_cancels_it_when_it_appears() -> None:
    flow = Flow()
    flow.paid()
    assert kinds(flow.feed(BuyerCancelRequested(ref=flow.ref, at=T0))) == []
    assert flow.s.status is OrderStatus.CANCELLING
    [cancel] = flow.placed()
    assert isinstance(cancel, CancelSupplierOrder)
    flow.feed(
        SupplierCancelResult(
            ref=flow.ref, at=T0, supplier_order_id="D1", outcome=SupplierCancelOutcome.CANCELLED
        )
    )
    assert flow.s.status is OrderStatus.CANCELLED


def test_a_stop_shipment_after_confirmation_stops_the_supplier_then_answers_stop() -> None:
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()
    flow.acked()
    [cancel] = flow.feed(BuyerCancelRequested(ref=flow.ref, at=T0, request_id="R9"))
    assert isinstance(cancel, CancelSupplierOrder)
    assert (
        flow.feed(
            SupplierCancelResult(
                ref=flow.ref, at=T0, supplier_order_id="D1", outcome=SupplierCancelOutcome.REQUESTED
            )
        )
        == ()
    )
    [answer] = flow.supplier_cancels(reason=CancelReason.BUYER_REMORSE)
    assert isinstance(answer, AnswerBuyerRequest)
    assert answer.answer is BuyerRequestAnswer.STOP_SHIPMENT
    flow.feed(
        BuyerRequestAnswered(
            ref=flow.ref, at=T0, request_id="R9", answer=BuyerRequestAnswer.STOP_SHIPMENT
        )
    )
    assert flow.s.status is OrderStatus.CANCELLED
    assert flow.s.cancellation is not None
    assert flow.s.cancellation.fault is CancelFault.BUYER


def test_a_stop_shipment_that_the_supplier_ships_anyway_is_answered_already_shipped() -> None:
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()
    flow.acked()
    flow.feed(BuyerCancelRequested(ref=flow.ref, at=T0, request_id="R9"))
    flow.feed(
        SupplierCancelResult(
            ref=flow.ref, at=T0, supplier_order_id="D1", outcome=SupplierCancelOutcome.REFUSED
        )
    )
    [answer] = flow.invoiced()
    assert isinstance(answer, AnswerBuyerRequest)
    assert answer.answer is BuyerRequestAnswer.ALREADY_SHIPPED
    assert answer.tracking == Tracking(courier=Courier.CJ, number="600000000001")
    flow.feed(
        BuyerRequestAnswered(
            ref=flow.ref, at=T0, request_id="R9", answer=BuyerRequestAnswer.ALREADY_SHIPPED
        )
    )
    assert flow.s.status is OrderStatus.SHIPPED


def test_a_buyer_cancel_racing_the_acknowledgement_becomes_a_stop_request_if_the_ack_lands() -> (
    None
):
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()
    assert flow.feed(BuyerCancelRequested(ref=flow.ref, at=T0, request_id="R1")) == ()
    [cancel] = flow.acked()
    assert isinstance(cancel, CancelSupplierOrder)


def test_a_supplier_that_refuses_a_buyer_cancel_before_confirmation_is_escalated() -> None:
    flow = Flow(wait_an_hour)
    flow.paid()
    flow.placed()
    flow.feed(BuyerCancelRequested(ref=flow.ref, at=T0, request_id="R1"))
    [escalation] = flow.feed(
        SupplierCancelResult(
            ref=flow.ref, at=T0, supplier_order_id="D1", outcome=SupplierCancelOutcome.REFUSED
        )
    )
    assert isinstance(escalation, EscalateOrder)


# --------------------------------------------------------------------------------------
# Supplier change feed
# --------------------------------------------------------------------------------------


def sold_out_after_placement(flow: Flow, item_id: str = "I1") -> tuple[Command, ...]:
    """Paid, placed at S1 (not yet accepted), then the change feed reports the item sold out."""
    flow.paid()
    flow.placed(item_id=item_id)
    return flow.feed(StockChanged(supplier_id="S1", item_id=item_id, stock=0, at=flow.now))


def test_a_sold_out_notice_after_placement_keeps_the_paid_supplier_order() -> None:
    # Domeme deducts stock when an order is paid: "sold out" may be our own purchase.
    flow = Flow(wait_an_hour)
    commands = sold_out_after_placement(flow)
    assert commands == ()
    assert not flow.of(CancelSupplierOrder)
    assert not flow.of(CancelMarketOrder)
    assert (flow.s.supplier_state, flow.s.supplier_order_id) == (SupplierOrderState.PLACED, "D1")
    assert flow.s.cancel_purpose is None
    assert flow.s.stock_out_known
    assert flow.s.status is OrderStatus.WAITING


def test_a_kept_order_after_a_sold_out_notice_is_never_acknowledged_before_tracking() -> None:
    flow = Flow(wait_an_hour)
    sold_out_after_placement(flow)
    flow.ctx = WorkflowContext(now=T0, decide=confirm_now, sources=SOURCES, notify_delays=False)
    at = T0 + HOUR
    commands = flow.feed(WakeUp(ref=flow.ref, at=at), at=at)  # the policy now says confirm
    assert kinds(commands) == [ScheduleWakeUp]
    assert flow.s.wake_at == last_safe_moment(flow.order, flow.ctx.safety_margin)
    assert not flow.of(Acknowledge)
    assert not flow.of(CancelSupplierOrder)


def test_a_kept_order_after_a_sold_out_notice_is_confirmed_and_uploaded_on_tracking() -> None:
    flow = Flow(wait_an_hour)
    sold_out_after_placement(flow)
    assert kinds(flow.invoiced()) == [Acknowledge]
    [upload] = flow.acked()
    assert isinstance(upload, UploadInvoice)
    flow.feed(InvoiceUploaded(ref=flow.ref, at=flow.now, tracking=upload.tracking))
    assert flow.s.status is OrderStatus.SHIPPED
    assert flow.s.cancellation is None
    assert not flow.of(CancelSupplierOrder)


def test_a_kept_order_the_supplier_then_cancels_goes_to_the_alternate() -> None:
    flow = Flow(wait_an_hour)
    sold_out_after_placement(flow)
    [place, *_] = flow.supplier_cancels()
    assert isinstance(place, PlaceSupplierOrder)
    assert (place.supplier_id, place.attempt) == ("S2", 2)
    assert not flow.s.stock_out_known  # a new supplier order, a new item
    assert not flow.of(CancelSupplierOrder)
    assert not flow.of(CancelMarketOrder)


def test_a_kept_order_the_supplier_then_cancels_without_alternate_is_an_honest_stock_out() -> None:
    flow = Flow(wait_an_hour, sku="SOLO")
    sold_out_after_placement(flow, item_id="I9")
    message, cancel = flow.supplier_cancels()
    assert_honest_stock_out(message, cancel)
    assert not flow.of(CancelSupplierOrder)


def test_a_kept_order_the_supplier_cancels_for_another_reason_keeps_that_reason() -> None:
    flow = Flow(wait_an_hour, sku="SOLO")
    sold_out_after_placement(flow, item_id="I9")
    message, cancel = flow.supplier_cancels(reason=CancelReason.PRICE_ERROR)
    assert isinstance(message, MessageBuyer)
    assert message.template_id == SUPPLIER_CANCEL_NOTICE
    assert isinstance(cancel, CancelMarketOrder)
    assert cancel.cancellation.reason is CancelReason.PRICE_ERROR  # not filed as a stock-out


def test_a_sold_out_notice_with_no_supplier_order_yet_goes_to_the_alternate() -> None:
    flow = Flow()
    flow.paid()
    flow.feed(  # S1 refused the placement for another reason: no supplier order, none pending
        CommandFailed(ref=flow.ref, at=T0, kind=CommandKind.PLACE_SUPPLIER_ORDER, message="x")
    )
    assert (flow.s.supplier_state, flow.s.place_pending) == (SupplierOrderState.NOT_PLACED, False)
    [place, *_] = flow.feed(StockChanged(supplier_id="S1", item_id="I1", stock=0, at=T0))
    assert isinstance(place, PlaceSupplierOrder)
    assert (place.supplier_id, place.attempt) == ("S2", 2)


def legacy_sold_out_cancel(flow: Flow, item_id: str = "I1") -> None:
    """A state an older version stored: it asked S1 to cancel after a sold-out notice."""
    flow.paid()
    flow.placed(item_id=item_id)
    flow.state = flow.s.evolve(
        stock_out_known=True,
        cancel_purpose=CancelPurpose.STOCK_OUT,
        supplier_cancel=SupplierCancelState.PENDING,
    )


def test_a_stored_legacy_sold_out_cancel_that_went_through_still_reroutes() -> None:
    flow = Flow(wait_an_hour)
    legacy_sold_out_cancel(flow)
    assert flow.s.status is OrderStatus.WAITING
    [place, *_] = flow.feed(
        SupplierCancelResult(
            ref=flow.ref, at=T0, supplier_order_id="D1", outcome=SupplierCancelOutcome.CANCELLED
        )
    )
    assert isinstance(place, PlaceSupplierOrder)
    assert place.supplier_id == "S2"


def test_a_stored_legacy_sold_out_cancel_without_alternate_ends_as_an_honest_stock_out() -> None:
    flow = Flow(wait_an_hour, sku="SOLO")
    legacy_sold_out_cancel(flow, item_id="I9")
    message, cancel = flow.feed(
        SupplierCancelResult(
            ref=flow.ref, at=T0, supplier_order_id="D1", outcome=SupplierCancelOutcome.CANCELLED
        )
    )
    assert isinstance(message, MessageBuyer)
    assert message.template_id == STOCK_OUT_NOTICE
    assert isinstance(cancel, CancelMarketOrder)
    assert cancel.cancellation.reason is CancelReason.STOCK_OUT


def test_a_stored_legacy_sold_out_cancel_overtaken_by_tracking_ships() -> None:
    flow = Flow(wait_an_hour)
    legacy_sold_out_cancel(flow)
    assert kinds(flow.invoiced()) == [Acknowledge]
    assert flow.s.cancel_purpose is None


def test_an_order_is_never_confirmed_into_a_known_stock_out() -> None:
    flow2 = Flow(wait_an_hour, quantity=5)
    flow2.paid()
    flow2.placed()
    flow2.feed(SupplierConfirmed(ref=flow2.ref, at=T0, supplier_id="S1", supplier_order_id="D1"))
    assert flow2.feed(StockChanged(supplier_id="S1", item_id="I1", stock=3, at=T0)) == ()
    flow2.ctx = WorkflowContext(now=T0, decide=confirm_now, sources=SOURCES)
    commands = flow2.feed(WakeUp(ref=flow2.ref, at=T0 + HOUR), at=T0 + HOUR)
    assert Acknowledge not in kinds(commands)
    assert kinds(commands) == [ScheduleWakeUp]
    assert kinds(flow2.invoiced()) == [Acknowledge]


def test_a_restock_lifts_the_stock_out_flag() -> None:
    flow = Flow(wait_an_hour)
    flow.paid()
    flow.placed()
    flow.feed(SupplierConfirmed(ref=flow.ref, at=T0, supplier_id="S1", supplier_order_id="D1"))
    flow.feed(StockChanged(supplier_id="S1", item_id="I1", stock=0, at=T0))
    assert flow.s.stock_out_known
    flow.feed(StockChanged(supplier_id="S1", item_id="I1", stock=40, at=T0))
    assert not flow.s.stock_out_known


def test_news_about_another_item_changes_nothing() -> None:
    flow = Flow(wait_an_hour)
    flow.paid()
    flow.placed()
    before = flow.s
    assert flow.feed(StockChanged(supplier_id="S1", item_id="OTHER", stock=0, at=T0)) == ()
    assert flow.feed(PriceChanged(supplier_id="S9", item_id="I1", unit_cost=1, at=T0)) == ()
    assert flow.s == before


def test_a_price_rise_above_the_sale_price_before_placement_is_escalated() -> None:
    flow = Flow()
    flow.paid()
    [escalation] = flow.feed(PriceChanged(supplier_id="S1", item_id="I1", unit_cost=12_000, at=T0))
    assert isinstance(escalation, EscalateOrder)
    assert "12000" in escalation.reason


# --------------------------------------------------------------------------------------
# Deadlines, escalation, people
# --------------------------------------------------------------------------------------


def test_an_untracked_order_at_the_last_safe_moment_is_escalated_with_one_delay_notice() -> None:
    flow = Flow(wait_an_hour)
    flow.paid()
    flow.placed()
    safe = flow.order.ship_by - timedelta(hours=4)
    escalation, notice = flow.feed(WakeUp(ref=flow.ref, at=safe), at=safe)
    assert isinstance(escalation, EscalateOrder)
    assert isinstance(notice, MessageBuyer)
    assert notice.template_id == DELAY_NOTICE
    assert "배송 지연" in notice.render(DEFAULT_TEMPLATES)
    assert not flow.s.is_terminal
    # Tracking still resolves it.
    assert kinds(flow.invoiced()) == [Acknowledge]
    assert flow.s.escalation is None


def test_a_confirmed_order_without_tracking_at_the_deadline_is_escalated() -> None:
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()
    flow.acked()
    safe = flow.order.ship_by - timedelta(hours=4)
    assert flow.s.wake_at == safe  # the deadline guard set at intake is still pending
    commands = flow.feed(WakeUp(ref=flow.ref, at=safe), at=safe)
    assert kinds(commands) == [EscalateOrder, MessageBuyer]
    assert flow.feed(WakeUp(ref=flow.ref, at=safe), at=safe) == ()


def test_an_escalating_policy_hands_the_order_to_a_person_who_can_confirm_it() -> None:
    flow = Flow(escalate)
    flow.paid()
    [escalation] = flow.placed()
    assert isinstance(escalation, EscalateOrder)
    assert (
        flow.feed(SupplierConfirmed(ref=flow.ref, at=T0, supplier_id="S1", supplier_order_id="D1"))
        == ()
    )
    [ack] = flow.feed(ManualDecision(ref=flow.ref, at=T0, action=ManualAction.CONFIRM))
    assert isinstance(ack, Acknowledge)


def test_a_person_can_cancel_with_an_honest_reason() -> None:
    flow = Flow(escalate)
    flow.paid()
    flow.placed()
    cancel_supplier, cancel = flow.feed(
        ManualDecision(
            ref=flow.ref,
            at=T0,
            action=ManualAction.CANCEL,
            reason=CancelReason.OTHER,
            note="address",
        )
    )
    assert isinstance(cancel_supplier, CancelSupplierOrder)
    assert isinstance(cancel, CancelMarketOrder)
    assert cancel.cancellation.fault is CancelFault.SELLER


def test_a_person_can_ship_with_their_own_tracking_and_wait() -> None:
    flow = Flow(escalate)
    flow.paid()
    flow.placed()
    [wake] = flow.feed(
        ManualDecision(ref=flow.ref, at=T0, action=ManualAction.WAIT, until=T0 + 2 * HOUR)
    )
    assert isinstance(wake, ScheduleWakeUp)
    assert wake.at == T0 + 2 * HOUR
    tracking = Tracking(courier=Courier.HANJIN, number="123412341234")
    [ack] = flow.feed(
        ManualDecision(ref=flow.ref, at=T0, action=ManualAction.SHIP, tracking=tracking)
    )
    assert isinstance(ack, Acknowledge)
    [upload] = flow.acked()
    assert isinstance(upload, UploadInvoice)
    assert upload.tracking == tracking


def test_the_suppliers_courier_reaches_the_market_unmapped() -> None:
    # Couriers are the library's own: the market adapter maps them to the market's codes.
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()
    flow.acked()
    [upload] = flow.invoiced(courier=Courier.LOGEN)
    assert isinstance(upload, UploadInvoice)
    assert upload.tracking.courier is Courier.LOGEN


def test_a_vendor_courier_code_is_not_a_courier() -> None:
    with pytest.raises(ValidationError, match="courier"):
        Tracking(courier="CJGLS", number="600000000001")  # type: ignore[arg-type]


def test_a_placement_found_for_an_abandoned_attempt_is_cancelled() -> None:
    flow = Flow(wait_an_hour)
    flow.paid()
    flow.placed()
    [cancel] = flow.placed(number="D77")
    assert isinstance(cancel, CancelSupplierOrder)
    assert cancel.supplier_order_id == "D77"
    assert flow.s.supplier_order_id == "D1"


def test_a_duplicate_order_paid_event_changes_nothing() -> None:
    flow = Flow()
    flow.paid()
    before = flow.s
    assert flow.paid() == ()
    assert flow.s == before


def test_events_before_order_paid_or_for_another_order_are_refused() -> None:
    ctx = WorkflowContext(now=T0, decide=confirm_now, sources=SOURCES)
    ref = OrderRef(market="coupang", order_id="1001")
    with pytest.raises(InvalidTransitionError, match="before its OrderPaid"):
        step(None, MarketAcknowledged(ref=ref, at=T0), ctx)
    state = step(None, OrderPaid(order=make_order("1001")), ctx).state
    other = OrderRef(market="coupang", order_id="9")
    with pytest.raises(InvalidTransitionError, match="given to the state of"):
        step(state, MarketAcknowledged(ref=other, at=T0), ctx)
    with pytest.raises(InvalidTransitionError, match="does not take"):
        step(state, "nonsense", ctx)  # type: ignore[arg-type]


def test_the_context_rejects_a_naive_time() -> None:
    ctx = WorkflowContext(now=T0, decide=confirm_now, sources=SOURCES)
    with pytest.raises(ValueError, match="timezone-aware"):
        ctx.at(datetime(2025, 1, 1))  # noqa: DTZ001


def test_every_default_template_renders_with_the_parameters_the_workflow_gives() -> None:
    params = {"order_id": "1001", "ship_by": "2025-09-04", "reason": "품절"}
    for template in DEFAULT_TEMPLATES.values():
        text = template.format_map(params)
        assert "1001" in text


def test_sources_accept_pairs_or_lists_and_refuse_anything_else() -> None:
    sources = sources_from({"A": ("S1", "I1"), "B": [("S1", "I2"), ("S2", "I3")]})
    assert [s.supplier_id for s in sources["B"]] == ["S1", "S2"]
    assert len(sources["A"]) == 1
    with pytest.raises(ConfigurationError, match="'C'"):
        sources_from({"C": ["S1"]})
    with pytest.raises(ConfigurationError, match="empty"):
        sources_from({"D": []})


def test_a_market_courier_code_passes_unchanged() -> None:
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()
    flow.acked()
    [upload] = flow.invoiced(courier=Courier.CJ)
    assert isinstance(upload, UploadInvoice)
    assert upload.tracking.courier is Courier.CJ


def test_a_sold_out_notice_at_the_deadline_escalates_instead_of_confirming() -> None:
    flow = Flow(wait_an_hour, quantity=3)
    flow.paid()
    flow.placed()
    flow.feed(SupplierConfirmed(ref=flow.ref, at=T0, supplier_id="S1", supplier_order_id="D1"))
    flow.feed(StockChanged(supplier_id="S1", item_id="I1", stock=0, at=T0))
    flow.ctx = WorkflowContext(now=T0, decide=confirm_now, sources=SOURCES, notify_delays=False)
    safe = flow.order.ship_by - timedelta(hours=4)
    [escalation] = flow.feed(WakeUp(ref=flow.ref, at=safe), at=safe)
    assert isinstance(escalation, EscalateOrder)
    assert "sold out" in escalation.reason


def test_a_supplier_order_not_yet_placed_when_the_deadline_comes_is_escalated() -> None:
    flow = Flow()
    flow.paid()
    safe = flow.order.ship_by - timedelta(hours=4)
    escalation, notice = flow.feed(WakeUp(ref=flow.ref, at=safe), at=safe)
    assert isinstance(escalation, EscalateOrder)
    assert "no supplier order yet" in escalation.reason
    assert isinstance(notice, MessageBuyer)


def test_a_supplier_that_cancels_after_shipping_is_escalated() -> None:
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()
    flow.acked()
    flow.invoiced()
    [escalation] = flow.supplier_cancels()
    assert isinstance(escalation, EscalateOrder)


def test_a_supplier_that_refuses_to_cancel_an_orphan_is_escalated() -> None:
    flow = Flow(wait_an_hour)
    flow.paid()
    flow.placed()
    commands = flow.feed(
        SupplierCancelResult(
            ref=flow.ref, at=T0, supplier_order_id="D-old", outcome=SupplierCancelOutcome.REFUSED
        )
    )
    [escalation] = commands
    assert isinstance(escalation, EscalateOrder)
    assert "D-old" in escalation.reason
    assert (
        flow.feed(
            SupplierCancelResult(
                ref=flow.ref,
                at=T0,
                supplier_order_id="D-old2",
                outcome=SupplierCancelOutcome.CANCELLED,
            )
        )
        == ()
    )


def test_a_supplier_that_refuses_a_stored_legacy_stock_out_cancel_keeps_the_order_unconfirmed() -> (
    None
):
    flow = Flow(wait_an_hour)
    legacy_sold_out_cancel(flow)
    flow.ctx = WorkflowContext(now=T0, decide=confirm_now, sources=SOURCES)
    commands = flow.feed(
        SupplierCancelResult(
            ref=flow.ref, at=T0, supplier_order_id="D1", outcome=SupplierCancelOutcome.REFUSED
        )
    )
    assert Acknowledge not in kinds(commands)
    assert flow.s.stock_out_known
    assert flow.s.cancel_purpose is None
    assert flow.s.status is OrderStatus.WAITING


def test_a_buyer_request_after_shipping_is_answered_already_shipped() -> None:
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()
    flow.acked()
    [upload] = flow.invoiced()
    assert isinstance(upload, UploadInvoice)
    flow.feed(InvoiceUploaded(ref=flow.ref, at=T0, tracking=upload.tracking))
    [answer] = flow.feed(BuyerCancelRequested(ref=flow.ref, at=T0, request_id="R5"))
    assert isinstance(answer, AnswerBuyerRequest)
    assert answer.answer is BuyerRequestAnswer.ALREADY_SHIPPED
    assert answer.tracking == upload.tracking


def test_a_stop_request_without_an_id_takes_effect_at_once() -> None:
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()
    flow.acked()
    [upload] = flow.invoiced()  # upload in flight
    assert flow.feed(BuyerCancelRequested(ref=flow.ref, at=T0)) == ()
    assert flow.s.status is OrderStatus.CONFIRMED
    assert isinstance(upload, UploadInvoice)
    flow.feed(InvoiceUploaded(ref=flow.ref, at=T0, tracking=upload.tracking))
    assert flow.s.status is OrderStatus.SHIPPED


def test_a_stop_request_without_an_id_for_goods_that_ship_anyway_uploads_the_invoice() -> None:
    flow = Flow(confirm_now)
    flow.paid()
    flow.placed()
    flow.acked()
    flow.feed(BuyerCancelRequested(ref=flow.ref, at=T0))
    flow.feed(
        SupplierCancelResult(
            ref=flow.ref, at=T0, supplier_order_id="D1", outcome=SupplierCancelOutcome.REFUSED
        )
    )
    [upload] = flow.invoiced()
    assert isinstance(upload, UploadInvoice)


@pytest.mark.parametrize(
    ("kind", "setup"),
    [
        (CommandKind.UPLOAD_INVOICE, "uploading"),
        (CommandKind.CANCEL_MARKET_ORDER, "cancelling"),
        (CommandKind.ANSWER_BUYER_REQUEST, "answering"),
    ],
)
def test_a_refused_market_command_is_escalated(kind: CommandKind, setup: str) -> None:
    flow = Flow(confirm_now, sku="SOLO")
    flow.paid()
    flow.placed(item_id="I9")
    flow.acked()
    if setup == "uploading":
        flow.invoiced()
    elif setup == "cancelling":
        flow.supplier_cancels()
    else:
        flow.feed(BuyerCancelRequested(ref=flow.ref, at=T0, request_id="R1"))
        flow.feed(
            SupplierCancelResult(
                ref=flow.ref, at=T0, supplier_order_id="D1", outcome=SupplierCancelOutcome.CANCELLED
            )
        )
    [escalation] = flow.feed(CommandFailed(ref=flow.ref, at=T0, kind=kind, message="no"))
    assert isinstance(escalation, EscalateOrder)
    assert flow.feed(CommandFailed(ref=flow.ref, at=T0, kind=kind, message="no")) == ()


def test_a_person_can_settle_a_supplier_that_shipped_a_cancelled_order() -> None:
    flow = Flow(wait_an_hour)
    flow.paid()
    flow.placed()
    flow.feed(BuyerCancelRequested(ref=flow.ref, at=T0))
    flow.feed(
        SupplierCancelResult(
            ref=flow.ref, at=T0, supplier_order_id="D1", outcome=SupplierCancelOutcome.REFUSED
        )
    )
    assert flow.s.escalation is not None
    assert flow.s.status is OrderStatus.CANCELLING
    flow.feed(ManualDecision(ref=flow.ref, at=T0, action=ManualAction.RESOLVE))
    assert flow.s.status is OrderStatus.CANCELLED
    assert flow.s.is_terminal


def test_a_price_rise_after_the_supplier_order_changes_nothing() -> None:
    flow = Flow()
    flow.paid()
    flow.placed()
    assert flow.feed(PriceChanged(supplier_id="S1", item_id="I1", unit_cost=99_000, at=T0)) == ()
    flow2 = Flow()
    flow2.paid()
    assert flow2.feed(PriceChanged(supplier_id="S1", item_id="I1", unit_cost=5_000, at=T0)) == ()


def test_a_buyer_cancel_after_a_refused_legacy_sold_out_cancel_asks_the_supplier_again() -> None:
    f = Flow(wait_an_hour)
    legacy_sold_out_cancel(f)
    f.feed(
        SupplierCancelResult(
            ref=f.ref, at=f.now, supplier_order_id="D1", outcome=SupplierCancelOutcome.REFUSED
        )
    )
    commands = f.feed(BuyerCancelRequested(ref=f.ref, at=f.now, request_id="R1"))
    assert [type(c) for c in commands].count(CancelSupplierOrder) == 1  # not left open
    f.feed(
        SupplierCancelResult(
            ref=f.ref, at=f.now, supplier_order_id="D1", outcome=SupplierCancelOutcome.CANCELLED
        )
    )
    f.feed(
        BuyerRequestAnswered(
            ref=f.ref, at=f.now, request_id="R1", answer=BuyerRequestAnswer.ACCEPT_CANCEL
        )
    )
    assert f.s.status is OrderStatus.CANCELLED
    assert f.s.is_terminal


def test_a_sold_out_notice_during_the_placement_keeps_the_order_and_waits_for_tracking() -> None:
    f = Flow(confirm_now)
    f.paid()  # the placement is out
    assert f.feed(StockChanged(supplier_id="S1", item_id="I1", stock=0, at=f.now)) == ()
    commands = f.placed()
    assert Acknowledge not in kinds(commands)  # "confirm now" becomes a wait for tracking
    assert f.s.wake_at == last_safe_moment(f.order, f.ctx.safety_margin)
    assert not f.of(CancelSupplierOrder)
    assert (f.s.supplier_state, f.s.stock_out_known) == (SupplierOrderState.PLACED, True)
    assert kinds(f.invoiced()) == [Acknowledge]
    assert kinds(f.acked()) == [UploadInvoice]


def test_a_sold_out_notice_during_the_placement_then_a_supplier_cancel_reroutes() -> None:
    f = Flow(confirm_now)
    f.paid()
    f.feed(StockChanged(supplier_id="S1", item_id="I1", stock=0, at=f.now))
    f.placed()
    [place, *_] = f.supplier_cancels()
    assert isinstance(place, PlaceSupplierOrder)
    assert place.supplier_id == "S2"
    assert not f.of(CancelSupplierOrder)


def test_a_refused_stop_with_no_tracking_reaches_a_person_by_the_deadline() -> None:
    f = Flow(confirm_now)
    f.paid()
    f.placed()
    f.feed(MarketAcknowledged(ref=f.ref, at=f.now))
    f.feed(BuyerCancelRequested(ref=f.ref, at=f.now, request_id="R1"))  # stop the shipment
    f.feed(
        SupplierCancelResult(
            ref=f.ref, at=f.now, supplier_order_id="D1", outcome=SupplierCancelOutcome.REFUSED
        )
    )
    assert f.s.wake_at is not None  # a guard at the last safe moment
    commands = f.feed(WakeUp(ref=f.ref, at=f.s.wake_at), at=f.s.wake_at)
    assert any(isinstance(c, EscalateOrder) for c in commands)
    assert f.s.escalation is not None


def test_replacing_order_state_fields_matches_the_named_tuple_contract() -> None:
    state = OrderState(order=make_order("1001"))
    changed = state._replace(attempt=2, supplier_id="S1", wake_at=T0)
    assert type(changed) is OrderState
    assert changed == tuple(  # what collections.namedtuple's own _replace would give
        {"attempt": 2, "supplier_id": "S1", "wake_at": T0}.get(name, value)
        for name, value in zip(OrderState._fields, state, strict=True)
    )
    assert state.attempt == 0  # the original is untouched
    with pytest.raises(ValueError, match="unexpected field names: \\['nope'\\]"):
        state._replace(attempt=3, nope=1)
