"""The engine against the in-memory fakes: paths, batching, retries, restarts, logging."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import attrs
import pytest

from consign_core.domain.model import (
    CancelFault,
    CancelReason,
    Courier,
    OrderRef,
    SupplierOrder,
    SupplierOrderStatus,
)
from consign_core.domain.rules import COUPANG, NAVER, MetricStatus
from consign_core.domain.timing import (
    DEFAULT_POLICY_NAMES,
    ConfirmationPolicy,
    ConfirmNow,
    Decision,
    DecisionContext,
    SupplierOrderState,
    WaitForInvoice,
    last_safe_moment,
    make_policy,
    watches_supplier_confirmation,
)
from consign_core.domain.workflow import (
    DELAY_NOTICE,
    STOCK_OUT_NOTICE,
    ManualAction,
    ManualDecision,
    OrderState,
    OrderStatus,
)
from consign_core.engine import Engine, EngineSettings
from consign_core.engine.ports import MarketOrderStatus, PlaceOrderRequest
from consign_core.errors import (
    ConfigurationError,
    RateLimitedError,
    RejectedError,
    TransientError,
    ValidationError,
)
from consign_core.store import InMemoryStore, OutboxStatus
from consign_core.testing import (
    T0,
    Fate,
    Faults,
    InMemoryMarket,
    InMemorySupplier,
    SupplierBehaviour,
    make_order,
)


HOUR = timedelta(hours=1)
SOURCES = {"SKU-1": [("S1", "I1"), ("S2", "I2")], "SOLO": ("S1", "I9")}


class World:
    """Fake market + supplier + store + engine, and a simulated clock."""

    def __init__(
        self,
        policy: str | ConfirmationPolicy = "confirm-immediately",
        *,
        market: InMemoryMarket | None = None,
        supplier: InMemorySupplier | None = None,
        store: InMemoryStore | None = None,
        **engine_kwargs: object,
    ) -> None:
        self.market = market or InMemoryMarket()
        self.supplier = supplier or InMemorySupplier()
        self.store = store or InMemoryStore()
        self.policy: str | ConfirmationPolicy = policy
        self.engine_kwargs = engine_kwargs
        self.now = T0
        self.escalations: list[tuple[OrderRef, str]] = []
        self.engine = self.new_engine()

    def new_engine(self) -> Engine:
        kwargs: dict[str, object] = {"sources": SOURCES, "messenger": self.market}
        kwargs.update(self.engine_kwargs)
        return Engine(
            self.market,
            self.supplier,
            self.store,
            policy=make_policy(self.policy) if isinstance(self.policy, str) else self.policy,
            profile=COUPANG,
            on_escalate=lambda state, reason: self.escalations.append((state.order.ref, reason)),
            **kwargs,  # type: ignore[arg-type]
        )

    def restart(self) -> None:
        self.engine = self.new_engine()

    def run(self, hours: float = 0.0, **kwargs: object):  # type: ignore[no-untyped-def]
        self.now += timedelta(hours=hours)
        self.market.advance(self.now)
        self.supplier.advance(self.now)
        return self.engine.run_once(self.now, **kwargs)  # type: ignore[arg-type]

    def run_until(self, hours: float, step: float = 1.0) -> None:
        end = self.now + timedelta(hours=hours)
        while self.now < end:
            self.run(step)

    def add(self, order_id: str, **kwargs: object) -> OrderRef:
        order = make_order(order_id, paid_at=self.now, **kwargs)  # type: ignore[arg-type]
        self.market.add_order(order)
        return order.ref

    def state(self, ref: OrderRef) -> OrderState:
        state = self.engine.order(ref)
        assert state is not None
        return state


@pytest.fixture
def world() -> World:
    return World()


def test_orders_flow_to_shipped_with_acknowledgements_batched_to_the_limit() -> None:
    w = World(market=InMemoryMarket(ack_batch_limit=2))
    refs = [w.add(str(i)) for i in range(5)]
    report = w.run()
    assert report.new_orders == 5
    assert w.market.calls["acknowledge"] == 3  # 2 + 2 + 1
    assert all(w.market.order_status(r) is MarketOrderStatus.ACKNOWLEDGED for r in refs)
    w.run_until(24)
    assert all(w.market.order_status(r) is MarketOrderStatus.SHIPPED for r in refs)
    assert all(w.state(r).status is OrderStatus.SHIPPED for r in refs)
    assert w.market.snapshot_of(refs[0]).tracking is not None
    assert w.market.snapshot_of(refs[0]).tracking.courier is Courier.CJ  # type: ignore[union-attr]
    assert w.engine.active_orders() == []


def test_await_invoice_confirms_only_with_tracking_and_uploads_in_the_same_run() -> None:
    w = World("await-invoice")
    ref = w.add("1")
    w.run_until(10)
    assert w.market.order_status(ref) is MarketOrderStatus.PAID
    w.run_until(15)
    assert w.market.order_status(ref) is MarketOrderStatus.SHIPPED
    assert w.market.acknowledgements(ref) == 1


def test_supplier_orders_are_asked_about_no_more_often_than_the_configured_cadence() -> None:
    every_run = World("await-invoice", settings=EngineSettings(supplier_order_feed=False))
    rationed = World(
        "await-invoice",
        settings=EngineSettings(supplier_order_feed=False, supplier_poll_every=4 * HOUR),
    )
    for w in (every_run, rationed):
        refs = [w.add(str(i)) for i in range(3)]
        w.run_until(19)  # the supplier ships at 20 h
        assert all(w.market.order_status(r) is MarketOrderStatus.PAID for r in refs)
        w.run_until(6)  # seen within one cadence of shipping
        assert all(w.market.order_status(r) is MarketOrderStatus.SHIPPED for r in refs)
    assert every_run.supplier.calls["get_orders"] >= 20  # one call per hourly run
    assert 6 <= rationed.supplier.calls["get_orders"] <= 8  # one per 4 hours for all three


def test_with_an_order_feed_the_engines_own_placements_are_followed_by_the_feed_alone() -> None:
    w = World("await-invoice")
    refs = [w.add(str(i)) for i in range(3)]
    w.run_until(19)  # the supplier ships at 20 h
    assert all(w.market.order_status(r) is MarketOrderStatus.PAID for r in refs)
    w.run_until(6)
    assert all(w.market.order_status(r) is MarketOrderStatus.SHIPPED for r in refs)
    assert w.supplier.calls["get_orders"] == 0  # each placement's answer was its first read
    assert w.supplier.calls["list_changed_orders"] >= 20  # the feed, on every hourly run


def test_with_an_order_feed_a_restarted_engine_asks_about_each_open_order_once() -> None:
    w = World("await-invoice")
    refs = [w.add(str(i)) for i in range(3)]
    w.run_until(2)
    assert w.supplier.calls["get_orders"] == 0
    w.restart()  # a new process: what changed while it was down is not on its feed's page
    w.run_until(17)
    assert w.supplier.calls["get_orders"] == 1  # the three open orders, in one call
    w.run_until(6)
    assert all(w.market.order_status(r) is MarketOrderStatus.SHIPPED for r in refs)
    assert w.supplier.calls["get_orders"] == 1


def test_with_an_order_feed_a_placement_answered_as_already_confirmed_is_read_once() -> None:
    supplier = InMemorySupplier()
    w = World("await-invoice", supplier=supplier)
    original = supplier.place_order

    def place_confirmed(request: PlaceOrderRequest) -> SupplierOrder:
        order = original(request)
        return attrs.evolve(order, status=SupplierOrderStatus.CONFIRMED)

    supplier.place_order = place_confirmed  # type: ignore[method-assign]
    w.add("1")
    w.run_until(2)
    assert supplier.calls["get_orders"] == 1  # the engine knows "placed", the answer said more


def test_a_negative_supplier_poll_cadence_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="supplier_poll_every"):
        EngineSettings(supplier_poll_every=-HOUR)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("safety_margin", -HOUR),
        ("safety_margin", 4),
        ("retry_base", -HOUR),
        ("retry_cap", "30m"),
        ("unconfirmed_supplier_cancel_fault", "seller"),
        ("reroute_after_confirmation", "no"),
        ("notify_delays", 1),
    ],
)
def test_engine_settings_of_the_wrong_kind_are_refused_naming_the_field(
    field: str, value: object
) -> None:
    # A negative safety margin would let an unconfirmed order wait past its ship-by deadline.
    with pytest.raises(ValidationError, match=field):
        EngineSettings(**{field: value})


class ConfirmWhenTheSupplierConfirms:
    """A custom policy acting on the supplier's own confirmation (no opt-out attribute)."""

    name = "confirm-when-the-supplier-confirms"

    def decide(self, context: DecisionContext) -> Decision:
        if context.supplier_state is SupplierOrderState.CONFIRMED:
            return ConfirmNow(reason="the supplier confirmed")
        safe = last_safe_moment(context.order)
        return WaitForInvoice(until=safe, recheck_at=safe, reason="wait for the supplier")


def test_a_custom_policy_is_asked_again_the_moment_the_supplier_confirms() -> None:
    w = World(ConfirmWhenTheSupplierConfirms())
    ref = w.add("1")
    w.run()
    assert w.market.order_status(ref) is MarketOrderStatus.PAID
    w.run(1.0)  # the supplier confirmed after an hour; its tracking comes after 20
    assert w.market.order_status(ref) is MarketOrderStatus.ACKNOWLEDGED


def test_built_in_policies_are_not_asked_again_when_the_supplier_confirms() -> None:
    for name in DEFAULT_POLICY_NAMES:
        assert watches_supplier_confirmation(make_policy(name)) is False
    assert watches_supplier_confirmation(ConfirmWhenTheSupplierConfirms()) is True
    asked: list[SupplierOrderState] = []

    class Counting:
        name = "counting"
        watches_supplier_confirmation = False

        def decide(self, context: DecisionContext) -> Decision:
            asked.append(context.supplier_state)
            safe = last_safe_moment(context.order)
            return WaitForInvoice(until=safe, recheck_at=safe, reason="wait")

    w = World(Counting())
    w.add("1")
    w.run()
    w.run(2.0)  # the supplier confirmed meanwhile
    assert asked == [SupplierOrderState.PLACED]


def test_a_policy_whose_confirmation_flag_is_not_a_bool_is_refused() -> None:
    class Odd(ConfirmWhenTheSupplierConfirms):
        watches_supplier_confirmation = "no"

    with pytest.raises(ValidationError, match="watches_supplier_confirmation"):
        World(Odd())


def test_a_supplier_stock_out_before_confirmation_reroutes_to_the_alternate() -> None:
    w = World("await-invoice")
    ref = w.add("1")
    w.supplier.script(ref, Fate(ships=False, after=6 * HOUR), attempt=1)
    w.run_until(30)
    assert w.state(ref).status is OrderStatus.SHIPPED
    assert [o.supplier_id for o in w.supplier.orders()] == ["S1", "S2"]


def test_a_stock_out_without_alternate_messages_the_buyer_and_cancels_as_stock_out() -> None:
    w = World("await-invoice")
    ref = w.add("1", sku="SOLO")
    w.supplier.script(ref, Fate(ships=False, after=6 * HOUR))
    w.run_until(10)
    snapshot = w.market.snapshot_of(ref)
    assert snapshot.status is MarketOrderStatus.CANCELLED
    assert snapshot.cancellation is not None
    assert snapshot.cancellation.reason is CancelReason.STOCK_OUT
    assert snapshot.cancellation.fault is CancelFault.SELLER
    [message] = w.market.messages
    assert message.template_id == STOCK_OUT_NOTICE
    assert "품절" in message.text
    assert w.state(ref).status is OrderStatus.CANCELLED


def test_a_supplier_cancel_after_confirmation_is_booked_in_the_ledger_as_seller_fault() -> None:
    w = World("confirm-immediately")
    ref = w.add("1")
    w.supplier.script(ref, Fate(ships=False, after=6 * HOUR))
    w.run_until(10)
    snapshot = w.market.snapshot_of(ref)
    assert snapshot.cancellation is not None
    assert snapshot.cancellation.fault is CancelFault.SELLER
    report = w.engine.ledger.report(w.now)
    assert any(metric.numerator > 0 for metric in report.metrics)


def test_a_buyer_cancel_before_confirmation_cancels_the_supplier_order_too() -> None:
    w = World("await-invoice")
    ref = w.add("1")
    w.run()
    w.run(1.5)  # the supplier accepted the order at 1 h: a cancel is now a request
    w.market.buyer_cancels(ref)
    w.run(0.5)
    assert w.market.order_status(ref) is MarketOrderStatus.CANCELLED
    assert w.state(ref).status is OrderStatus.CANCELLING  # until the supplier accepts
    w.run_until(3)
    assert w.state(ref).status is OrderStatus.CANCELLED
    assert w.state(ref).cancellation.fault is CancelFault.BUYER  # type: ignore[union-attr]
    [order] = w.supplier.orders()
    assert order.status.value == "cancelled"


def test_a_supplier_order_withdrawn_for_the_buyer_leaves_the_trust_models_pending_census() -> None:
    w = World("await-invoice", settings=EngineSettings(snapshot_every=1))
    ref = w.add("1")
    w.run()
    w.run(1.5)
    [placed] = w.supplier.orders()
    assert placed.supplier_order_id in w.engine.trust.snapshot().suppliers["S1"].pending
    w.market.buyer_cancels(ref)
    w.run_until(3)
    assert w.state(ref).status is OrderStatus.CANCELLED
    supplier = w.engine.trust.snapshot().suppliers["S1"]
    assert supplier.pending == {}  # withdrawn: censored, not left to look like a slow shipment
    assert supplier.resolved == {placed.supplier_order_id: False}  # and not a supplier failure
    assert w.engine.trust.assess("S1", 1, w.now, w.now + 48 * HOUR).effective_n == 0
    w.restart()  # the withdrawal is journaled: a restart replays it
    assert w.engine.trust.snapshot().suppliers["S1"] == supplier


def test_a_stop_shipment_request_after_confirmation_stops_the_supplier_and_the_market() -> None:
    w = World("confirm-immediately")
    ref = w.add("1")
    w.run()  # placed and acknowledged
    w.run(2)  # accepted by the supplier (WAITDELI)
    w.market.buyer_cancels(ref)
    w.run_until(6)
    assert w.market.order_status(ref) is MarketOrderStatus.CANCELLED
    state = w.state(ref)
    assert state.status is OrderStatus.CANCELLED
    assert state.cancellation is not None
    assert state.cancellation.fault is CancelFault.BUYER


def test_an_order_shipped_by_answering_a_stop_request_is_on_time_in_the_ledger() -> None:
    supplier = InMemorySupplier(
        behaviour=SupplierBehaviour(accept_cancel_requests=False, invoice_after=10 * HOUR)
    )
    w = World("confirm-immediately", supplier=supplier)
    ref = w.add("1")
    w.run()
    w.run(2)
    w.market.buyer_cancels(ref)  # a stop-shipment request the supplier will not honour
    w.run_until(14)  # it ships; the engine answers "already shipped" with the waybill
    assert w.market.order_status(ref) is MarketOrderStatus.SHIPPED
    assert w.state(ref).last_reason == "buyer's stop request answered: already shipped"
    report = w.engine.ledger.report(w.now + timedelta(days=5))  # past its deadline
    on_time = report.metric("on_time_shipment")
    assert on_time.status is MetricStatus.OK
    assert on_time.numerator == 0  # not booked as a late shipment


def test_a_sold_out_notice_on_the_change_feed_keeps_an_unaccepted_paid_order() -> None:
    # Domeme deducts stock when an order is paid: the notice may be our own purchase.
    w = World("await-invoice")
    ref = w.add("1")
    w.run()  # placed at S1, not yet accepted
    w.supplier.set_stock("S1", "I1", 0)
    w.run(0.25)
    assert w.engine.stock[("S1", "I1")] == 0
    [order] = w.supplier.orders()
    assert (order.supplier_id, order.status.value) == ("S1", "placed")  # not cancelled
    assert w.state(ref).stock_out_known
    w.run_until(30)
    assert [o.supplier_id for o in w.supplier.orders()] == ["S1"]  # shipped by S1
    assert w.state(ref).status is OrderStatus.SHIPPED
    assert w.state(ref).cancellation is None


def test_a_lost_placement_response_is_reconciled_not_placed_again() -> None:
    supplier = InMemorySupplier(faults=Faults(rates={"place_order": 1.0}, kinds=(), seed=1))
    w = World(supplier=supplier)
    ref = w.add("1")
    # Time out *after* the order was placed: the engine cannot know it was.
    supplier.faults = Faults(
        rates={"place_order": 1.0}, lost_response_share=1.0, kinds=(_timeout(),)
    )
    w.run()
    assert supplier.placements == {"coupang:1:1": 1}
    assert w.state(ref).status is OrderStatus.PLACING
    supplier.faults = Faults()
    w.run(1)
    assert supplier.placements == {"coupang:1:1": 1}
    assert supplier.calls["find_order"] == 1
    assert w.state(ref).supplier_order_id is not None


def _timeout():  # type: ignore[no-untyped-def]
    from consign_core.testing import FaultKind

    return FaultKind.TIMEOUT


def test_a_throttled_acknowledgement_waits_for_retry_after_and_is_not_duplicated() -> None:
    w = World()
    ref = w.add("1")
    w.market.faults.fail_next("acknowledge", RateLimitedError("429", retry_after=600.0))
    report = w.run()
    assert report.commands_retrying == 1
    assert w.market.order_status(ref) is MarketOrderStatus.PAID
    w.run(0.05)  # three minutes later: still backing off
    assert w.market.calls["acknowledge"] == 1
    w.run(0.25)
    assert w.market.order_status(ref) is MarketOrderStatus.ACKNOWLEDGED
    assert w.market.duplicate_acknowledgements == 0


def test_a_sold_out_refusal_at_placement_goes_to_the_alternate() -> None:
    w = World()
    w.supplier.add_item("S1", "I1", stock=0)
    ref = w.add("1")
    w.run()
    assert [o.supplier_id for o in w.supplier.orders()] == ["S2"]
    assert w.state(ref).candidate == 1


def test_a_refused_placement_is_escalated_and_a_person_can_retry_it() -> None:
    w = World()
    ref = w.add("1")
    w.supplier.faults.fail_next("place_order", RejectedError("TOO_LESS_EMONEY_ERROR"))
    w.run()
    assert [r for r, _ in w.escalations] == [ref]
    assert w.engine.escalated()[0].order.ref == ref
    w.run(0.1, events=[ManualDecision(ref=ref, at=w.now, action=ManualAction.REDECIDE)])
    assert w.engine.escalated() == []
    assert len(w.supplier.orders()) == 1
    assert w.market.order_status(ref) is MarketOrderStatus.ACKNOWLEDGED


def test_a_restart_resumes_from_the_store_and_reconciles_unknown_results() -> None:
    w = World()
    refs = [w.add(str(i)) for i in range(3)]
    w.supplier.faults.fail_next("place_order", TransientError("timeout"))
    w.run()
    assert len(w.store.pending_outbox()) == 1
    w.restart()
    w.run(1)
    assert w.store.pending_outbox() == []
    assert sorted(w.supplier.placements.values()) == [1, 1, 1]
    w.run_until(24)
    assert all(w.state(r).status is OrderStatus.SHIPPED for r in refs)


def test_the_trust_model_and_ledger_survive_a_restart() -> None:
    w = World(settings=EngineSettings(snapshot_every=5))
    for i in range(4):
        w.add(str(i))
    w.run_until(30)
    before = w.engine.trust.assess("S1", 1, w.now, w.now + 48 * HOUR)
    report_before = w.engine.ledger.report(w.now)
    w.restart()
    after = w.engine.trust.assess("S1", 1, w.now, w.now + 48 * HOUR)
    assert after == before
    assert w.engine.ledger.report(w.now) == report_before
    assert before.effective_n > 0


def test_an_untracked_order_gets_one_delay_notice_and_an_escalation_at_the_deadline() -> None:
    w = World("await-invoice")
    ref = w.add("1")
    w.supplier.script(ref, Fate(ships=True, after=200 * HOUR))
    w.run_until(100, step=2)
    notices = [m for m in w.market.messages if m.template_id == DELAY_NOTICE]
    assert len(notices) == 1
    assert [r for r, _ in w.escalations] == [ref]


def test_every_log_line_about_an_order_names_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="consign_core")
    w = World()
    ref = w.add("1")
    w.market.faults.fail_next("acknowledge", TransientError("boom"))
    w.run()
    order_lines = [r for r in caplog.records if hasattr(r, "order_ref")]
    assert order_lines
    for record in order_lines:
        assert record.order_ref == str(ref)  # type: ignore[attr-defined]
        assert str(ref) in record.getMessage()


def test_run_forever_uses_the_injected_clock_and_sleep_and_survives_adapter_errors() -> None:
    w = World()
    w.add("1")
    times = iter(T0 + timedelta(minutes=m) for m in range(0, 1000, 1))
    sleeps: list[float] = []
    w.market.faults.fail_next("list_paid_orders", TransientError("down"))
    runs = w.engine.run_forever(
        clock=lambda: next(times), sleep=sleeps.append, poll_interval=60, max_runs=3
    )
    assert runs == 3
    assert sleeps == [0.0, 0.0]  # each run "took" a minute of the fake clock
    assert w.market.calls["list_paid_orders"] == 3


def test_run_forever_stops_when_asked() -> None:
    w = World()
    calls = iter([False, False, True])
    runs = w.engine.run_forever(clock=lambda: T0, sleep=lambda _: None, stop=lambda: next(calls))
    assert runs == 2


def test_an_engine_for_another_market_than_its_profile_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="does not match"):
        Engine(
            InMemoryMarket("coupang"),
            InMemorySupplier(),
            InMemoryStore(),
            policy=make_policy("confirm-immediately"),
            profile=NAVER,
            sources=SOURCES,
        )


def test_a_naive_now_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        world.engine.run_once(datetime(2025, 1, 1))  # noqa: DTZ001


def test_the_outbox_keeps_every_command_with_its_result(world: World) -> None:
    world.add("1")
    world.run_until(24)
    kinds = [(e.command.kind.value, e.status) for e in world.store.outbox()]
    assert kinds == [
        ("place_supplier_order", OutboxStatus.DONE),
        ("acknowledge", OutboxStatus.DONE),
        ("upload_invoice", OutboxStatus.DONE),
    ]


def test_a_buyer_request_for_an_order_not_taken_in_yet_is_read_again_later() -> None:
    w = World(
        "await-invoice", market=InMemoryMarket(page_size=1), settings=EngineSettings(max_pages=1)
    )
    first, second = w.add("1"), w.add("2")
    w.market.buyer_cancels(second)
    w.run()  # takes in order 1 only; the request about order 2 must wait
    assert w.engine.order(second) is None
    w.run(0.5)
    w.run_until(4)
    assert w.state(second).status is OrderStatus.CANCELLED
    assert w.state(second).cancellation.fault is CancelFault.BUYER  # type: ignore[union-attr]
    assert w.state(first).status is OrderStatus.WAITING


def test_buyer_requests_wait_for_a_failed_order_poll() -> None:
    w = World("await-invoice")
    ref = w.add("1")
    w.market.buyer_cancels(ref)
    w.market.faults.fail_next("list_paid_orders", TransientError("down"))
    report = w.run()
    assert report.poll_errors
    assert w.market.calls["list_buyer_requests"] == 0
    w.run_until(3)
    assert w.state(ref).status is OrderStatus.CANCELLED


def test_a_clock_that_steps_back_does_not_break_the_run() -> None:
    w = World("expected-cost")
    w.add("1")
    w.run(2)
    w.add("2")
    report = w.engine.run_once(w.now - HOUR)
    assert report.new_orders == 1


def test_a_buyer_cancel_before_confirmation_is_booked_by_the_ledger_not_counted_late() -> None:
    w = World("await-invoice")  # waits for tracking: the buyer cancels first
    ref = w.add("1")
    w.run()
    w.market.buyer_cancels(ref, reason=CancelReason.BUYER_REMORSE)
    w.run(1)
    assert w.market.order_status(ref) is MarketOrderStatus.CANCELLED
    w.run(24 * 6)  # well past the order's ship-by deadline
    metrics = {m.name: m for m in w.engine.ledger.report(w.now).metrics}
    on_time = metrics["on_time_shipment"]
    assert on_time.denominator == 0  # a cancelled order is not a shipment, late or not
    assert on_time.status is MetricStatus.OK


def test_next_due_is_the_earliest_wake_up_of_a_waiting_order() -> None:
    w = World("await-invoice")
    assert w.engine.next_due() is None  # nothing taken in yet
    ref = w.add("1")
    w.run()
    state = w.state(ref)
    assert state.wake_at is not None
    assert w.engine.next_due() == state.wake_at
    w.run_until(48)  # shipped: nothing left to wake up for
    assert w.state(ref).status is OrderStatus.SHIPPED
    assert w.engine.next_due() is None


def test_a_cancellation_not_read_back_is_booked_as_the_buyers_without_logging_personal_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import attrs

    from consign_core.domain.model import Recipient
    from consign_core.errors import TransientError
    from consign_core.testing import make_order

    recipient = Recipient(
        name="이하늘", phone="010-5555-0101", zip_code="48058", address1="부산 해운대구 센텀로 1"
    )
    w = World("await-invoice")
    order = attrs.evolve(make_order("77", paid_at=w.now), recipient=recipient)
    w.market.add_order(order)
    w.run()
    w.market.buyer_cancels(order.ref)
    # the answer goes through; reading the cancellation back fails
    original = w.market.answer_buyer_request

    def answer_then_fail_reads(*args: object, **kwargs: object) -> None:
        original(*args, **kwargs)  # type: ignore[arg-type]
        w.market.faults.fail_next("get_order", TransientError("timeout"))

    w.market.answer_buyer_request = answer_then_fail_reads  # type: ignore[method-assign]
    with caplog.at_level(logging.DEBUG, logger="consign_core.engine"):
        w.run(1)
    assert "cancellation not read back" in caplog.text
    assert w.state(order.ref).cancellation is not None
    assert w.state(order.ref).cancellation.fault is CancelFault.BUYER  # type: ignore[union-attr]
    for secret in ("이하늘", "010-5555-0101", "48058", "센텀로"):
        assert secret not in caplog.text
