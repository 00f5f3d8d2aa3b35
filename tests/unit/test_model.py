"""Behaviour of the value types (the domain model, its events and the values of the ports):
validation names the field and the value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import attrs
import pytest

from consign_core.domain.events import BuyerCancelRequested, SupplierCancelled
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    MarketOrder,
    OrderLine,
    OrderRef,
    SupplierOrder,
    SupplierOrderStatus,
    Tracking,
)
from consign_core.domain.workflow import BuyerRequestKind
from consign_core.engine.ports import BuyerRequest, InvoiceUpload, ItemResult
from consign_core.errors import ConsignError, NaiveDatetimeError, ValidationError


KST = timezone(timedelta(hours=9))
PAID = datetime(2025, 9, 29, 10, 0, tzinfo=KST)
REF = OrderRef(market="coupang", order_id="10001")


def make_order(**overrides: object) -> MarketOrder:
    fields: dict[str, object] = {
        "ref": REF,
        "lines": [OrderLine(sku="GIFT-SET", quantity=20, unit_price=15_000)],
        "paid_at": PAID,
        "ship_by": PAID + timedelta(days=3),
    }
    fields.update(overrides)
    return MarketOrder(**fields)  # type: ignore[arg-type]


def test_order_totals_add_up_over_lines() -> None:
    order = make_order(
        lines=[
            OrderLine(sku="A", quantity=2, unit_price=1_000),
            OrderLine(sku="B", quantity=3, unit_price=500),
        ]
    )
    assert order.quantity == 5
    assert order.value == 3_500


def test_order_ref_prints_as_market_and_id() -> None:
    assert str(REF) == "coupang:10001"


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5, "3"])
def test_line_quantity_must_be_a_positive_int(quantity: object) -> None:
    with pytest.raises(
        ValidationError, match=r"OrderLine\.quantity must be an integer >= 1"
    ) as info:
        OrderLine(sku="A", quantity=quantity, unit_price=1)  # type: ignore[arg-type]
    assert info.value.field == "quantity"
    assert info.value.value == quantity


def test_negative_price_is_rejected_with_field_and_value() -> None:
    with pytest.raises(ValidationError, match=r"unit_price.*got -5"):
        OrderLine(sku="A", quantity=1, unit_price=-5)


def test_blank_sku_is_rejected() -> None:
    with pytest.raises(ValidationError, match="sku"):
        OrderLine(sku="  ", quantity=1, unit_price=1)


def test_order_needs_at_least_one_line() -> None:
    with pytest.raises(ValidationError, match="lines"):
        make_order(lines=[])


def test_naive_paid_at_is_rejected_naming_the_field() -> None:
    with pytest.raises(NaiveDatetimeError, match=r"MarketOrder\.paid_at"):
        make_order(paid_at=datetime(2025, 9, 29, 10, 0))  # noqa: DTZ001


def test_ship_by_before_payment_is_rejected() -> None:
    with pytest.raises(ValidationError, match="ship_by"):
        make_order(ship_by=PAID - timedelta(hours=1))


def test_validation_errors_are_consign_errors_and_value_errors() -> None:
    with pytest.raises(ConsignError):
        Tracking(courier="", number="1")
    with pytest.raises(ValueError, match="courier"):
        Tracking(courier="", number="1")


def test_models_are_frozen_and_evolve_revalidates() -> None:
    line = OrderLine(sku="A", quantity=1, unit_price=1)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        line.quantity = 2  # type: ignore[misc]
    with pytest.raises(ValidationError):
        attrs.evolve(line, quantity=0)


def test_invoiced_supplier_order_needs_tracking() -> None:
    with pytest.raises(ValidationError, match="tracking"):
        SupplierOrder(
            supplier_id="S1",
            supplier_order_id="D1",
            order_ref=REF,
            item_id="I1",
            quantity=1,
            placed_at=PAID,
            status=SupplierOrderStatus.INVOICED,
        )


def test_statuses_faults_and_reasons_must_be_members_not_raw_vendor_values() -> None:
    with pytest.raises(
        ValidationError, match=r"SupplierOrder\.status must be a SupplierOrderStatus"
    ):
        SupplierOrder(
            supplier_id="S1",
            supplier_order_id="D1",
            order_ref=REF,
            item_id="I1",
            quantity=1,
            placed_at=PAID,
            status="WAITDELI",  # type: ignore[arg-type]
        )
    with pytest.raises(ValidationError, match=r"Cancellation\.fault .*got 'seller'"):
        Cancellation(fault="seller", reason=CancelReason.STOCK_OUT, at=PAID)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"Cancellation\.reason .*STOCK_OUT"):
        Cancellation(fault=CancelFault.SELLER, reason="품절", at=PAID)  # type: ignore[arg-type]


def test_events_refuse_reasons_given_as_strings() -> None:
    with pytest.raises(ValidationError, match=r"SupplierCancelled\.reason .*got 'stock_out'"):
        SupplierCancelled(
            ref=REF,
            at=PAID,
            supplier_id="S1",
            supplier_order_id="D1",
            reason="stock_out",  # type: ignore[arg-type]
        )
    with pytest.raises(ValidationError, match=r"BuyerCancelRequested\.reason"):
        BuyerCancelRequested(ref=REF, at=PAID, reason="buyer_remorse")  # type: ignore[arg-type]


def test_a_cancellation_note_must_be_text_so_it_round_trips() -> None:
    with pytest.raises(ValidationError, match=r"Cancellation\.note must be a string"):
        Cancellation(
            fault=CancelFault.SELLER,
            reason=CancelReason.STOCK_OUT,
            at=PAID,
            note=None,  # type: ignore[arg-type]
        )
    with pytest.raises(ValidationError, match=r"SupplierCancelled\.note"):
        SupplierCancelled(
            ref=REF,
            at=PAID,
            supplier_id="S1",
            supplier_order_id="D1",
            reason=CancelReason.STOCK_OUT,
            note=None,  # type: ignore[arg-type]
        )


def test_cancellation_is_set_exactly_when_cancelled() -> None:
    cancel = Cancellation(fault=CancelFault.SELLER, reason=CancelReason.STOCK_OUT, at=PAID)
    common = {
        "supplier_id": "S1",
        "supplier_order_id": "D1",
        "order_ref": REF,
        "item_id": "I1",
        "quantity": 1,
        "placed_at": PAID,
    }
    with pytest.raises(ValidationError, match="cancellation"):
        SupplierOrder(status=SupplierOrderStatus.CANCELLED, **common)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="cancellation"):
        SupplierOrder(status=SupplierOrderStatus.PLACED, cancellation=cancel, **common)  # type: ignore[arg-type]
    done = SupplierOrder(status=SupplierOrderStatus.CANCELLED, cancellation=cancel, **common)  # type: ignore[arg-type]
    assert not done.is_open


def test_only_seller_fault_cancellations_are_penalised() -> None:
    for fault in CancelFault:
        cancel = Cancellation(fault=fault, reason=CancelReason.STOCK_OUT, at=PAID)
        assert cancel.penalised is (fault is CancelFault.SELLER)


@pytest.mark.parametrize("text", ["x\ud800", "주문\udfff"])
def test_ids_and_notes_with_a_lone_surrogate_are_refused_naming_the_field(text: str) -> None:
    # A vendor's JSON "\ud800" escape decodes to a string no file or database can store.
    with pytest.raises(ValidationError, match="sku"):
        OrderLine(sku=text, quantity=1, unit_price=1000)
    with pytest.raises(ValidationError, match="note"):
        Cancellation(fault=CancelFault.SELLER, reason=CancelReason.STOCK_OUT, at=PAID, note=text)
    assert OrderLine(sku="주문-1", quantity=1, unit_price=1000).sku == "주문-1"  # Hangul is fine


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: BuyerRequest(request_id="R1", ref=REF, kind="cancel", at=PAID), "kind"),  # type: ignore[arg-type]
        (
            lambda: BuyerRequest(
                request_id="R1",
                ref=REF,
                kind=BuyerRequestKind.CANCEL,
                at=PAID,
                reason="x",  # type: ignore[arg-type]
            ),
            "reason",
        ),
        (
            lambda: BuyerRequest(
                request_id="R1",
                ref="coupang:1",  # type: ignore[arg-type]
                kind=BuyerRequestKind.CANCEL,
                at=PAID,
            ),
            "ref",
        ),
        (lambda: ItemResult(ref=REF, ok="yes"), "ok"),  # type: ignore[arg-type]
        (lambda: InvoiceUpload(ref=REF, tracking=("CJGLS", "1")), "tracking"),  # type: ignore[arg-type]
    ],
)
def test_port_values_an_adapter_builds_wrongly_are_refused_naming_the_field(
    build: Callable[[], object], field: str
) -> None:
    # Refused where the adapter builds them (a retried poll error in the engine), not later
    # as an AttributeError deep inside a run.
    with pytest.raises(ValidationError, match=field):
        build()
