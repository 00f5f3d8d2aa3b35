"""Regression tests: the fakes keep to the ports, and the value types and converter refuse
what they cannot represent faithfully."""

from __future__ import annotations

import json
import pickle
from datetime import timedelta
from typing import Any

import attrs
import pytest

from consign_core.domain.events import BuyerCancelRequested, SupplierCancelled
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    OrderLine,
    OrderRef,
    SupplierOrderStatus,
    SupplierSignals,
    Tracking,
)
from consign_core.domain.rules import COUPANG, dump_profile, parse_profile
from consign_core.domain.serialization import structure, unstructure
from consign_core.domain.workflow import BuyerRequestAnswer, BuyerRequestKind, SupplierCancelOutcome
from consign_core.engine.ports import (
    BuyerRequest,
    InvoiceUpload,
    ItemResult,
    MarketOrderStatus,
    PlaceOrderRequest,
)
from consign_core.errors import (
    AdapterError,
    ConfigurationError,
    ConsignError,
    NaiveDatetimeError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    SerializationError,
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
REF = OrderRef(market="coupang", order_id="1")


def place(supplier: InMemorySupplier, order_id: str = "1") -> str:
    request = PlaceOrderRequest(
        order_ref=make_order(order_id).ref,
        supplier_id="S1",
        item_id="I1",
        quantity=1,
        idempotency_key=f"coupang:{order_id}:1",
    )
    return supplier.place_order(request).supplier_order_id


# ------------------------------------------------------------------ serialization


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"sku": "A", "quantity": "3", "unit_price": 1}, "expected an integer, got '3'"),
        ({"sku": "A", "quantity": 1, "unit_price": 9_999.99}, "got 9999.99 @ $.unit_price"),
        ({"sku": "A", "quantity": True, "unit_price": 1}, "expected an integer, got True"),
        ({"sku": None, "quantity": 1, "unit_price": 1}, "expected a string, got None"),
        ({"sku": 123, "quantity": 1, "unit_price": 1}, "expected a string, got 123"),
    ],
)
def test_structure_refuses_scalars_of_the_wrong_json_type(
    payload: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SerializationError) as info:
        structure(payload, OrderLine)
    assert problem in str(info.value)


def test_a_profile_flag_written_as_the_string_false_is_an_error_not_true() -> None:
    data = json.loads(dump_profile(COUPANG))
    assert data["stock_out_counts_any_fault"] is True
    data["stock_out_counts_any_fault"] = "false"  # meant False; bool("false") is True
    with pytest.raises(ConfigurationError, match=r"expected true or false, got 'false'"):
        parse_profile(json.dumps(data))


def test_an_integer_is_still_fine_for_a_number_field() -> None:
    signals = structure(
        {"seller_rank": 3, "seller_score": 95, "avg_dispatch_days": None}, SupplierSignals
    )
    assert signals == SupplierSignals(seller_rank=3, seller_score=95.0)
    assert isinstance(signals.seller_score, float)


def test_events_refuse_reasons_given_as_strings() -> None:
    with pytest.raises(ValidationError, match=r"SupplierCancelled\.reason .*got 'stock_out'"):
        SupplierCancelled(
            ref=REF,
            at=T0,
            supplier_id="S1",
            supplier_order_id="D1",
            reason="stock_out",  # type: ignore[arg-type]
        )
    with pytest.raises(ValidationError, match=r"BuyerCancelRequested\.reason"):
        BuyerCancelRequested(ref=REF, at=T0, reason="buyer_remorse")  # type: ignore[arg-type]


def test_a_cancellation_note_must_be_text_so_it_round_trips() -> None:
    with pytest.raises(ValidationError, match=r"Cancellation\.note must be a string"):
        Cancellation(
            fault=CancelFault.SELLER,
            reason=CancelReason.STOCK_OUT,
            at=T0,
            note=None,  # type: ignore[arg-type]
        )
    with pytest.raises(ValidationError, match=r"SupplierCancelled\.note"):
        SupplierCancelled(
            ref=REF,
            at=T0,
            supplier_id="S1",
            supplier_order_id="D1",
            reason=CancelReason.STOCK_OUT,
            note=None,  # type: ignore[arg-type]
        )


def test_unstructure_reports_an_unwritable_enum_field_as_a_serialization_error() -> None:
    with attrs.validators.disabled():  # the constructor refuses it; a bypass must still not crash
        request = BuyerRequest(request_id="R1", ref=REF, kind="cancel", at=T0)  # type: ignore[arg-type]
    with pytest.raises(SerializationError, match="cannot write BuyerRequest"):
        unstructure(request)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: BuyerRequest(request_id="R1", ref=REF, kind="cancel", at=T0), "kind"),
        (
            lambda: BuyerRequest(
                request_id="R1", ref=REF, kind=BuyerRequestKind.CANCEL, at=T0, reason="x"
            ),
            "reason",
        ),
        (
            lambda: BuyerRequest(
                request_id="R1", ref="coupang:1", kind=BuyerRequestKind.CANCEL, at=T0
            ),
            "ref",
        ),
        (lambda: ItemResult(ref=REF, ok="yes"), "ok"),
        (lambda: InvoiceUpload(ref=REF, tracking=("CJGLS", "1")), "tracking"),
    ],
)
def test_port_values_an_adapter_builds_wrongly_are_refused_naming_the_field(
    build: Any, field: str
) -> None:
    # Refused where the adapter builds them (a retried poll error in the engine), not later
    # as an AttributeError deep inside a run.
    with pytest.raises(ValidationError, match=field):
        build()


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "error",
    [
        NaiveDatetimeError("Scenario.start", "2025-09-01 10:00"),
        ValidationError("bad", field="quantity", value=0),
        SerializationError("cannot read X", details=("a @ $.b",)),
        RateLimitedError("slow down", adapter="coupang", status=429, retry_after=2.0),
    ],
)
def test_library_errors_survive_pickling_across_a_process_pool(error: ConsignError) -> None:
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert vars(back) == vars(error)
    if isinstance(error, AdapterError):
        assert isinstance(back, AdapterError)
        assert back.retry_after == error.retry_after


# ------------------------------------------------------------------ fault injection


def test_faults_refuse_kinds_that_are_not_fault_kinds() -> None:
    with pytest.raises(ValidationError, match=r"Faults\.kinds .*got 'throttle'"):
        Faults(rate=1.0, kinds=("throttle",))  # type: ignore[arg-type]
    assert Faults(kinds=[FaultKind.THROTTLE]).kinds == (FaultKind.THROTTLE,)  # type: ignore[arg-type]


def test_a_throttled_supplier_cancel_records_no_memo() -> None:
    supplier = InMemorySupplier()
    order_id = place(supplier)
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
    uploads = [InvoiceUpload(ref=r, tracking=Tracking(courier="CJGLS", number="1")) for r in refs]
    with pytest.raises(RejectedError, match="at most 1"):
        market.acknowledge(refs)
    with pytest.raises(RejectedError, match="at most 1"):
        market.upload_invoices(uploads)
    assert (market.calls["acknowledge"], market.calls["upload_invoices"]) == (1, 1)


# ------------------------------------------------------------------ market


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
    "tracking", [None, Tracking(courier="DAEHAN", number="600000000001")], ids=["none", "unknown"]
)
def test_already_shipped_needs_a_waybill_in_a_market_courier_code(
    tracking: Tracking | None,
) -> None:
    market = InMemoryMarket()
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
    good = Tracking(courier="CJGLS", number="600000000001")
    market.answer_buyer_request(
        order.ref, request.request_id, BuyerRequestAnswer.ALREADY_SHIPPED, good
    )
    assert market.get_order(order.ref).tracking == good


# ------------------------------------------------------------------ supplier


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
    order_id = place(supplier)
    supplier.cancel_order(order_id, "구매자 취소")
    copy = InMemorySupplier()
    copy.load(json.loads(json.dumps(supplier.dump())))
    assert copy.cancel_memos == {order_id: "구매자 취소"}


def test_a_stock_out_before_the_supplier_accepts_a_cancel_request_stays_a_stock_out() -> None:
    supplier = InMemorySupplier(
        behaviour=SupplierBehaviour(confirm_after=HOUR, accept_cancel_after=5 * HOUR)
    )
    supplier.script(REF, Fate(ships=False, after=3 * HOUR, reason=CancelReason.STOCK_OUT))
    order_id = place(supplier)
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
    order_id = place(supplier)
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
    refused = place(supplier, "1")
    accepted = place(supplier, "2")
    supplier.advance(T0 + 2 * HOUR)
    supplier.cancel_order(refused, "memo")
    supplier.behaviour = SupplierBehaviour(confirm_after=HOUR, accept_cancel_after=HOUR)
    supplier.cancel_order(accepted, "memo")
    copy = InMemorySupplier(behaviour=behaviour)
    copy.load(json.loads(json.dumps(supplier.dump())))
    copy.advance(T0 + 30 * HOUR)
    faults = {o.supplier_order_id: o.cancellation.fault for o in copy.orders() if o.cancellation}
    assert faults == {refused: CancelFault.SELLER, accepted: CancelFault.BUYER}
