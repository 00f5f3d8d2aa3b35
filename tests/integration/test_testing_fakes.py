"""The in-memory fakes behave like the APIs they stand for, and fail as scripted."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    Courier,
    SupplierOrderStatus,
    Tracking,
)
from consign_core.domain.workflow import BuyerRequestAnswer, BuyerRequestKind, SupplierCancelOutcome
from consign_core.engine.ports import (
    VENDOR_CODE_STOCK_OUT,
    BuyerMessenger,
    InvoiceUpload,
    MarketOrderStatus,
    MarketPort,
    PlaceOrderRequest,
    SupplierPort,
)
from consign_core.errors import (
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
    ValidationError,
)
from consign_core.testing import (
    T0,
    Fate,
    FaultKind,
    Faults,
    InMemoryMarket,
    InMemorySupplier,
    SupplierBehaviour,
    make_order,
)


HOUR = timedelta(hours=1)
REF = make_order("1").ref


def request(order_id: str = "1", key: str | None = None, quantity: int = 1) -> PlaceOrderRequest:
    return PlaceOrderRequest(
        order_ref=make_order(order_id).ref,
        supplier_id="S1",
        item_id="I1",
        quantity=quantity,
        idempotency_key=key or f"coupang:{order_id}:1",
    )


def test_the_fakes_implement_the_ports() -> None:
    market, supplier = InMemoryMarket(), InMemorySupplier()
    assert isinstance(market, MarketPort)
    assert isinstance(market, BuyerMessenger)
    assert isinstance(supplier, SupplierPort)


def test_make_order_sets_a_business_day_deadline() -> None:
    order = make_order("1", quantity=20, unit_price=3_000)
    assert order.ship_by.date().isoformat() == "2025-09-04"  # Mon + 3 business days
    assert (order.quantity, order.value) == (20, 60_000)


# ------------------------------------------------------------------ failures


def test_faults_are_reproducible_from_the_seed() -> None:
    def outcome(faults: Faults) -> str:
        try:
            faults.call("x", "m", lambda: None)
        except (TransientError, RateLimitedError) as exc:
            return type(exc).__name__
        return "ok"

    def run(seed: int) -> list[str]:
        faults = Faults(rate=0.5, seed=seed)
        return [outcome(faults) for _ in range(50)]

    assert run(3) == run(3)
    assert run(3) != run(4)
    assert set(run(3)) == {"ok", "TransientError", "RateLimitedError"}


def test_a_lost_response_applies_the_effect_and_still_raises() -> None:
    faults = Faults(rate=1.0, kinds=(FaultKind.TIMEOUT,), lost_response_share=1.0)
    effects: list[int] = []
    with pytest.raises(TransientError, match="after the call took effect"):
        faults.call("x", "m", lambda: effects.append(1))
    assert effects == [1]


def test_a_throttle_carries_retry_after_and_has_no_effect() -> None:
    faults = Faults(rate=1.0, kinds=(FaultKind.THROTTLE,), retry_after=7.0)
    effects: list[int] = []
    with pytest.raises(RateLimitedError) as info:
        faults.call("x", "m", lambda: effects.append(1))
    assert info.value.retry_after == 7.0
    assert effects == []


def test_per_method_rates_and_one_off_failures() -> None:
    market = InMemoryMarket(
        faults=Faults(rates={"get_order": 1.0}, kinds=(FaultKind.SERVER_ERROR,))
    )
    order = make_order("1")
    market.add_order(order)
    market.list_paid_orders(None)
    with pytest.raises(TransientError):
        market.get_order(order.ref)
    market.faults.fail_next("list_paid_orders", RejectedError("nope"))
    with pytest.raises(RejectedError):
        market.list_paid_orders(None)
    assert market.calls["list_paid_orders"] == 2


def test_faults_validate_their_rates() -> None:
    with pytest.raises(ValueError, match="probabilit"):
        Faults(rate=1.5)
    with pytest.raises(ValueError, match="probabilities"):
        Faults(rates={"m": 2.0})


def test_faults_refuse_kinds_that_are_not_fault_kinds() -> None:
    with pytest.raises(ValidationError, match=r"Faults\.kinds .*got 'throttle'"):
        Faults(rate=1.0, kinds=("throttle",))  # type: ignore[arg-type]
    assert Faults(kinds=[FaultKind.THROTTLE]).kinds == (FaultKind.THROTTLE,)  # type: ignore[arg-type]


def test_a_throttled_supplier_cancel_records_no_memo() -> None:
    supplier = InMemorySupplier()
    order_id = supplier.place_order(request()).supplier_order_id
    supplier.faults.fail_next("cancel_order", RateLimitedError("429", retry_after=1.0))
    with pytest.raises(RateLimitedError):
        supplier.cancel_order(order_id, "buyer cancelled")
    assert supplier.cancel_memos == {}
    with pytest.raises(NotFoundError):
        supplier.cancel_order("D-unknown", "memo")
    assert supplier.cancel_memos == {}
    assert supplier.cancel_order(order_id, "buyer cancelled") is SupplierCancelOutcome.CANCELLED
    assert supplier.cancel_memos == {order_id: "buyer cancelled"}


def test_an_over_limit_batch_is_counted_as_a_call() -> None:
    market = InMemoryMarket(ack_batch_limit=1, invoice_batch_limit=1)
    refs = [make_order(str(i)).ref for i in range(2)]
    uploads = [
        InvoiceUpload(ref=r, tracking=Tracking(courier=Courier.CJ, number="1")) for r in refs
    ]
    with pytest.raises(RejectedError, match="at most 1"):
        market.acknowledge(refs)
    with pytest.raises(RejectedError, match="at most 1"):
        market.upload_invoices(uploads)
    assert (market.calls["acknowledge"], market.calls["upload_invoices"]) == (1, 1)


# ------------------------------------------------------------------ market


def test_the_market_acknowledges_idempotently_and_counts_duplicates() -> None:
    market = InMemoryMarket()
    order = make_order("1")
    market.add_order(order)
    [first] = market.acknowledge([order.ref])
    [again] = market.acknowledge([order.ref])
    assert first.ok
    assert again.ok
    assert market.duplicate_acknowledgements == 1
    assert market.acknowledgements(order.ref) == 2
    [missing] = market.acknowledge([make_order("x").ref])
    assert missing.code == "NOT_FOUND_SHIPMENT_BOX"


def test_the_market_enforces_its_batch_limits() -> None:
    market = InMemoryMarket(ack_batch_limit=2)
    refs = [make_order(str(i)).ref for i in range(3)]
    with pytest.raises(RejectedError, match="at most 2"):
        market.acknowledge(refs)


def test_invoices_need_an_acknowledged_order_an_accepted_courier_and_go_once() -> None:
    market = InMemoryMarket(couriers=frozenset(Courier) - {Courier.CU})
    order = make_order("1")
    market.add_order(order)
    upload = InvoiceUpload(ref=order.ref, tracking=Tracking(courier=Courier.CJ, number="1"))
    assert market.upload_invoices([upload])[0].code == "INVALID_STATUS"
    market.acknowledge([order.ref])
    bad = InvoiceUpload(ref=order.ref, tracking=Tracking(courier=Courier.CU, number="1"))
    assert market.upload_invoices([bad])[0].code == "INVALID_INVOICE_NUMBER"
    assert market.upload_invoices([upload])[0].ok
    assert market.upload_invoices([upload])[0].code == "NOT_ALLOW_INVOICE_NUMBER_RE_UPLOAD"
    assert market.duplicate_uploads == 1
    assert market.order_status(order.ref) is MarketOrderStatus.SHIPPED


def test_a_buyer_cancel_before_acknowledgement_is_immediate() -> None:
    market = InMemoryMarket()
    order = make_order("1")
    market.add_order(order)
    request_ = market.buyer_cancels(order.ref)
    assert request_ is not None
    assert request_.kind is BuyerRequestKind.CANCEL
    assert market.order_status(order.ref) is MarketOrderStatus.CANCELLED
    market.answer_buyer_request(order.ref, request_.request_id, BuyerRequestAnswer.ACCEPT_CANCEL)
    assert market.list_buyer_requests(None).requests == (request_,)


def test_a_stop_shipment_request_waits_for_an_answer() -> None:
    market = InMemoryMarket()
    order = make_order("1")
    market.add_order(order)
    market.acknowledge([order.ref])
    request_ = market.buyer_cancels(order.ref)
    assert request_ is not None
    assert request_.kind is BuyerRequestKind.STOP_SHIPMENT
    upload = InvoiceUpload(ref=order.ref, tracking=Tracking(courier=Courier.CJ, number="1"))
    assert market.upload_invoices([upload])[0].retryable
    market.answer_buyer_request(order.ref, request_.request_id, BuyerRequestAnswer.STOP_SHIPMENT)
    snapshot = market.get_order(order.ref)
    assert snapshot.status is MarketOrderStatus.CANCELLED
    assert snapshot.cancellation is not None
    assert snapshot.cancellation.fault is CancelFault.BUYER
    with pytest.raises(RejectedError, match="already answered"):
        market.answer_buyer_request(
            order.ref, request_.request_id, BuyerRequestAnswer.STOP_SHIPMENT
        )


def test_a_seller_cancel_is_recorded_as_given_and_refused_twice() -> None:
    market = InMemoryMarket()
    order = make_order("1")
    market.add_order(order)
    cancellation = Cancellation(fault=CancelFault.SELLER, reason=CancelReason.STOCK_OUT, at=T0)
    market.cancel_order(order.ref, cancellation)
    assert market.get_order(order.ref).cancellation == cancellation
    with pytest.raises(RejectedError):
        market.cancel_order(order.ref, cancellation)
    assert market.duplicate_cancels == 1
    with pytest.raises(NotFoundError):
        market.get_order(make_order("nope").ref)


def test_the_paid_order_feed_pages_with_a_cursor() -> None:
    market = InMemoryMarket(page_size=2)
    for i in range(3):
        market.add_order(make_order(str(i)))
    first = market.list_paid_orders(None)
    assert [o.ref.order_id for o in first.orders] == ["0", "1"]
    assert first.has_more
    second = market.list_paid_orders(first.cursor)
    assert [o.ref.order_id for o in second.orders] == ["2"]
    assert not second.has_more
    assert market.list_paid_orders(second.cursor).orders == ()


def test_the_market_round_trips_through_json() -> None:
    market = InMemoryMarket()
    order = make_order("1")
    market.add_order(order)
    market.acknowledge([order.ref])
    market.buyer_cancels(order.ref)
    market.send_message(order.ref, "stock_out", "품절 안내")
    copy = InMemoryMarket()
    copy.load(json.loads(json.dumps(market.dump())))
    assert copy.dump() == market.dump()
    assert copy.get_order(order.ref) == market.get_order(order.ref)


def test_a_cursor_the_fake_never_issued_is_refused_not_a_crash_or_a_repeat() -> None:
    market = InMemoryMarket()
    supplier = InMemorySupplier()
    for i in range(3):
        market.add_order(make_order(str(i)))
    for bad in ("abc", "-1", ""):
        with pytest.raises(RejectedError, match="invalid cursor"):
            market.list_paid_orders(bad)
        with pytest.raises(RejectedError, match="invalid cursor"):
            market.list_buyer_requests(bad)
        with pytest.raises(RejectedError, match="invalid cursor"):
            supplier.list_changes(bad)


def test_a_second_buyer_cancel_while_a_stop_request_is_open_files_no_new_request() -> None:
    market = InMemoryMarket()
    order = make_order("1")
    market.add_order(order)
    market.acknowledge([order.ref])
    first = market.buyer_cancels(order.ref)
    again = market.buyer_cancels(order.ref)
    assert first is not None
    assert first.kind is BuyerRequestKind.STOP_SHIPMENT
    assert again == first
    assert market.list_buyer_requests(None).requests == (first,)
    market.answer_buyer_request(order.ref, first.request_id, BuyerRequestAnswer.STOP_SHIPMENT)
    assert market.order_status(order.ref) is MarketOrderStatus.CANCELLED


@pytest.mark.parametrize(
    "tracking", [None, Tracking(courier=Courier.CU, number="600000000001")], ids=["none", "refused"]
)
def test_already_shipped_needs_a_waybill_with_an_accepted_courier(
    tracking: Tracking | None,
) -> None:
    market = InMemoryMarket(couriers=frozenset(Courier) - {Courier.CU})
    order = make_order("1")
    market.add_order(order)
    market.acknowledge([order.ref])
    request = market.buyer_cancels(order.ref)
    assert request is not None
    with pytest.raises(RejectedError, match="waybill"):
        market.answer_buyer_request(
            order.ref, request.request_id, BuyerRequestAnswer.ALREADY_SHIPPED, tracking
        )
    snapshot = market.get_order(order.ref)
    assert (snapshot.status, snapshot.tracking) == (MarketOrderStatus.ACKNOWLEDGED, None)
    good = Tracking(courier=Courier.CJ, number="600000000001")
    market.answer_buyer_request(
        order.ref, request.request_id, BuyerRequestAnswer.ALREADY_SHIPPED, good
    )
    assert market.get_order(order.ref).tracking == good


# ------------------------------------------------------------------ supplier


def test_a_supplier_order_is_accepted_then_shipped_on_schedule() -> None:
    supplier = InMemorySupplier(
        behaviour=SupplierBehaviour(confirm_after=HOUR, invoice_after=5 * HOUR)
    )
    order = supplier.place_order(request())
    assert order.status is SupplierOrderStatus.PLACED
    supplier.advance(T0 + 2 * HOUR)
    assert supplier.get_orders([order.supplier_order_id])[0].status is SupplierOrderStatus.CONFIRMED
    supplier.advance(T0 + 6 * HOUR)
    [shipped] = supplier.get_orders([order.supplier_order_id])
    assert shipped.status is SupplierOrderStatus.INVOICED
    assert shipped.tracking is not None
    assert shipped.tracking.courier is Courier.CJ


def test_placing_twice_with_one_key_really_orders_twice_and_is_counted() -> None:
    supplier = InMemorySupplier()
    first = supplier.place_order(request(key="k"))
    supplier.place_order(request(key="k"))
    assert supplier.duplicate_orders == 1
    assert supplier.find_order("k") == first
    assert supplier.find_order("other") is None


def test_a_sold_out_item_refuses_orders_with_the_stock_out_code() -> None:
    supplier = InMemorySupplier()
    supplier.add_item("S1", "I1", stock=2)
    supplier.place_order(request("1", quantity=2))
    with pytest.raises(RejectedError) as info:
        supplier.place_order(request("2"))
    assert info.value.vendor_code == VENDOR_CODE_STOCK_OUT
    assert supplier.get_stock("S1", "I1").stock == 0


def test_scripted_and_drawn_fates() -> None:
    supplier = InMemorySupplier(
        behaviour=SupplierBehaviour(cancel_probability=1.0, cancel_after=3 * HOUR)
    )
    scripted = make_order("9").ref
    supplier.script(scripted, Fate(ships=True, after=2 * HOUR))
    kept = supplier.place_order(request("9"))
    dropped = supplier.place_order(request("8"))
    supplier.advance(T0 + 4 * HOUR)
    by_id = {o.supplier_order_id: o for o in supplier.orders()}
    assert by_id[kept.supplier_order_id].status is SupplierOrderStatus.INVOICED
    cancelled = by_id[dropped.supplier_order_id]
    assert cancelled.status is SupplierOrderStatus.CANCELLED
    assert cancelled.cancellation is not None
    assert (cancelled.cancellation.fault, cancelled.cancellation.reason) == (
        CancelFault.SELLER,
        CancelReason.STOCK_OUT,
    )


def test_a_buyer_cancel_depends_on_how_far_the_supplier_got() -> None:
    supplier = InMemorySupplier(behaviour=SupplierBehaviour(accept_cancel_after=2 * HOUR))
    waiting = supplier.place_order(request("1"))
    assert (
        supplier.cancel_order(waiting.supplier_order_id, "memo") is SupplierCancelOutcome.CANCELLED
    )
    accepted = supplier.place_order(request("2"))
    supplier.advance(T0 + 90 * timedelta(minutes=1))
    assert (
        supplier.cancel_order(accepted.supplier_order_id, "memo") is SupplierCancelOutcome.REQUESTED
    )
    supplier.advance(T0 + 4 * HOUR)
    [done] = supplier.get_orders([accepted.supplier_order_id])
    assert done.status is SupplierOrderStatus.CANCELLED
    assert done.cancellation is not None
    assert done.cancellation.fault is CancelFault.BUYER
    shipped = supplier.place_order(request("3"))
    supplier.advance(T0 + 30 * HOUR)
    assert supplier.cancel_order(shipped.supplier_order_id, "memo") is SupplierCancelOutcome.REFUSED
    assert supplier.cancel_memos[shipped.supplier_order_id] == "memo"


def test_stock_and_price_changes_are_published_on_the_feed() -> None:
    supplier = InMemorySupplier(page_size=1)
    supplier.add_item("S1", "I1", stock=5)
    supplier.set_stock("S1", "I1", 0)
    supplier.set_price("S1", "I1", 7_000)
    first = supplier.list_changes(None)
    assert first.changes[0].stock == 0
    assert first.has_more
    second = supplier.list_changes(first.cursor)
    assert second.changes[0].unit_cost == 7_000
    assert not second.has_more


def test_the_supplier_round_trips_through_json() -> None:
    supplier = InMemorySupplier(seed=3)
    supplier.add_item("S1", "I1", stock=9)
    supplier.place_order(request("1"))
    supplier.place_order(request("2"))
    supplier.advance(T0 + 2 * HOUR)
    copy = InMemorySupplier(seed=3)
    copy.load(json.loads(json.dumps(supplier.dump())))
    assert copy.dump() == supplier.dump()
    copy.advance(T0 + 30 * HOUR)
    supplier.advance(T0 + 30 * HOUR)
    assert copy.orders() == supplier.orders()


def test_on_change_fires_after_every_change() -> None:
    supplier = InMemorySupplier()
    seen: list[int] = []
    supplier.on_change = lambda: seen.append(len(supplier.orders()))
    supplier.place_order(request("1"))
    assert seen == [1]


def test_a_refused_stock_change_leaves_the_item_as_it_was() -> None:
    supplier = InMemorySupplier()
    supplier.add_item("S1", "I1", stock=5, unit_cost=3_000)
    with pytest.raises(ValidationError):
        supplier.set_stock("S1", "I1", -1)
    with pytest.raises(ValidationError):
        supplier.set_price("S1", "I1", -10)
    item = supplier.get_stock("S1", "I1")
    assert (item.stock, item.unit_cost) == (5, 3_000)
    assert supplier.list_changes(None).changes == ()


def test_cancel_memos_survive_dump_and_load() -> None:
    supplier = InMemorySupplier()
    order_id = supplier.place_order(request()).supplier_order_id
    supplier.cancel_order(order_id, "구매자 취소")
    copy = InMemorySupplier()
    copy.load(json.loads(json.dumps(supplier.dump())))
    assert copy.cancel_memos == {order_id: "구매자 취소"}


def test_a_stock_out_before_the_supplier_accepts_a_cancel_request_stays_a_stock_out() -> None:
    supplier = InMemorySupplier(
        behaviour=SupplierBehaviour(confirm_after=HOUR, accept_cancel_after=5 * HOUR)
    )
    supplier.script(REF, Fate(ships=False, after=3 * HOUR, reason=CancelReason.STOCK_OUT))
    order_id = supplier.place_order(request()).supplier_order_id
    supplier.advance(T0 + 2 * HOUR)
    assert supplier.cancel_order(order_id, "memo") is SupplierCancelOutcome.REQUESTED
    supplier.advance(T0 + 3 * HOUR)  # the 판매취소 is due now, before the request is accepted
    [order] = supplier.get_orders([order_id])
    assert order.status is SupplierOrderStatus.CANCELLED
    assert order.cancellation is not None
    assert order.cancellation.at == T0 + 3 * HOUR
    assert (order.cancellation.fault, order.cancellation.reason) == (
        CancelFault.SELLER,
        CancelReason.STOCK_OUT,
    )


def test_a_cancel_request_the_supplier_never_accepts_is_not_reported_as_accepted() -> None:
    supplier = InMemorySupplier(
        behaviour=SupplierBehaviour(confirm_after=HOUR, accept_cancel_requests=False)
    )
    supplier.script(REF, Fate(ships=False, after=6 * HOUR, reason=CancelReason.STOCK_OUT))
    order_id = supplier.place_order(request()).supplier_order_id
    supplier.advance(T0 + 2 * HOUR)
    assert supplier.cancel_order(order_id, "memo") is SupplierCancelOutcome.REQUESTED
    supplier.advance(T0 + 7 * HOUR)
    [order] = supplier.get_orders([order_id])
    assert order.cancellation is not None
    assert order.cancellation.fault is CancelFault.SELLER
    assert order.cancellation.note == "판매취소"


def test_whether_a_cancel_request_was_accepted_survives_dump_and_load() -> None:
    behaviour = SupplierBehaviour(confirm_after=HOUR, accept_cancel_requests=False)
    supplier = InMemorySupplier(behaviour=behaviour)
    supplier.script(REF, Fate(ships=False, after=6 * HOUR, reason=CancelReason.STOCK_OUT))
    refused = supplier.place_order(request("1")).supplier_order_id
    accepted = supplier.place_order(request("2")).supplier_order_id
    supplier.advance(T0 + 2 * HOUR)
    supplier.cancel_order(refused, "memo")
    supplier.behaviour = SupplierBehaviour(confirm_after=HOUR, accept_cancel_after=HOUR)
    supplier.cancel_order(accepted, "memo")
    copy = InMemorySupplier(behaviour=behaviour)
    copy.load(json.loads(json.dumps(supplier.dump())))
    copy.advance(T0 + 30 * HOUR)
    faults = {o.supplier_order_id: o.cancellation.fault for o in copy.orders() if o.cancellation}
    assert faults == {refused: CancelFault.SELLER, accepted: CancelFault.BUYER}


# ---------------------------------------------------------------------- the listing


def test_the_market_refuses_orders_for_a_stopped_item_until_it_is_resumed() -> None:
    market = InMemoryMarket()
    market.set_listing("SKU-1", selling=False)
    market.set_listing("SKU-1", selling=False)  # the same state twice is harmless
    assert market.add_order(make_order("1")) is False
    assert market.list_paid_orders(None).orders == ()
    market.set_listing("SKU-1", selling=True)
    assert market.add_order(make_order("2")) is True
    assert [o.ref.order_id for o in market.list_paid_orders(None).orders] == ["2"]
    assert market.refused_orders == 1
    assert market.calls["set_listing"] == 3


def test_the_market_sells_no_more_than_the_quantity_set() -> None:
    market = InMemoryMarket()
    market.set_listing("SKU-1", selling=True, quantity=3)
    assert market.add_order(make_order("1", quantity=2)) is True
    assert market.add_order(make_order("2", quantity=2)) is False
    assert market.listings["SKU-1"] == (True, 1)
    assert market.is_selling("SKU-1")
    assert not market.is_selling("SKU-1", 2)


def test_a_listing_call_fails_as_scripted_and_changes_nothing() -> None:
    market = InMemoryMarket()
    market.faults.fail_next("set_listing", TransientError("503", adapter="coupang"))
    with pytest.raises(TransientError):
        market.set_listing("SKU-1", selling=False)
    assert market.is_selling("SKU-1")


def test_the_listing_survives_dump_and_load() -> None:
    market = InMemoryMarket()
    market.set_listing("SKU-1", selling=False, quantity=0)
    market.add_order(make_order("1"))
    copy = InMemoryMarket()
    copy.load(json.loads(json.dumps(market.dump())))
    assert copy.listings == {"SKU-1": (False, 0)}
    assert copy.refused_orders == 1
