"""DomemeSupplier: the SupplierPort on the client, against FakeDomeme in process."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import stamina
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.adapters.domeme import (
    VENDOR_CODE_EMONEY_SHORT,
    DomemeClient,
    DomemeSupplier,
    memo_tag,
    parse_memo_tag,
)
from consign_core.domain.model import (
    CancelFault,
    CancelReason,
    Courier,
    OrderRef,
    Recipient,
    SupplierOrderStatus,
)
from consign_core.domain.workflow import SupplierCancelOutcome
from consign_core.engine.ports import (
    VENDOR_CODE_STOCK_OUT,
    PlaceOrderRequest,
    SupplierPort,
)
from consign_core.errors import ConsignError, RejectedError, TransientError, ValidationError
from consign_core.testing.fake_domeme import DomemeFault, FakeDomeme


RECIPIENT = Recipient(
    name="박서준", phone="010-9876-5432", zip_code="04524", address1="서울 중구 세종대로 110"
)
T0 = datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeDomeme:
    fake = FakeDomeme(clock=clock, emoney=500_000)
    fake.add_item("1001", seller_id="supplier1", price=9_000, stock=4, seller_rank=2)
    fake.add_item("2002", seller_id="supplier2", options={"00_01": 1})
    return fake


@pytest.fixture
def client(fake: FakeDomeme, clock: Clock) -> DomemeClient:
    transport = httpx.MockTransport(fake.handler)
    return DomemeClient("test-api-key", "buyer1", "test-password", transport=transport, clock=clock)


@pytest.fixture
def supplier(client: DomemeClient) -> DomemeSupplier:
    return DomemeSupplier(client, shop_name="서준상점", recipient_for=lambda request: RECIPIENT)


def request_for(
    order_id: str, *, item: str = "1001", qty: int = 1, attempt: int = 1
) -> PlaceOrderRequest:
    ref = OrderRef(market="coupang", order_id=order_id)
    return PlaceOrderRequest(
        order_ref=ref,
        supplier_id="supplier1",
        item_id=item,
        quantity=qty,
        idempotency_key=f"{ref}:{attempt}",
    )


def test_supplier_is_a_supplier_port(supplier: DomemeSupplier) -> None:
    assert isinstance(supplier, SupplierPort)
    assert supplier.platform == "domeme"


def test_place_order_pays_and_tags_the_memo(supplier: DomemeSupplier, fake: FakeDomeme) -> None:
    order = supplier.place_order(request_for("500", qty=2))
    placed = fake.orders[order.supplier_order_id]
    assert parse_memo_tag(placed.memo) == ("coupang:500:1", "supplier1")
    assert order.order_ref == OrderRef(market="coupang", order_id="500")
    assert (order.quantity, order.status) == (2, SupplierOrderStatus.PLACED)
    assert fake.emoney == 500_000 - (2 * 9_000 + 3_000)


def test_timeout_after_effect_finds_the_order_instead_of_paying_twice(
    supplier: DomemeSupplier, fake: FakeDomeme
) -> None:
    fake.inject(DomemeFault.TIMEOUT_AFTER, mode="setOrder")
    order = supplier.place_order(request_for("501"))
    assert len(fake.orders) == 1
    assert order.supplier_order_id in fake.orders
    assert len(fake.calls_of("setOrder")) == 1


def test_after_a_timeout_a_fresh_adapter_finds_the_order_by_its_memo_key(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    first = DomemeSupplier(client, shop_name="s", recipient_for=lambda r: RECIPIENT)
    first.place_order(request_for("400"))
    fake.inject(DomemeFault.TIMEOUT_AFTER, mode="setOrder")
    fake.inject(DomemeFault.SERVER_ERROR, mode="getOrderList", times=3)
    with pytest.raises(TransientError):
        first.place_order(request_for("502"))
    restarted = DomemeSupplier(client, shop_name="s", recipient_for=lambda r: RECIPIENT)
    found = restarted.find_order("coupang:502:1")
    assert found is not None
    assert found.order_ref.order_id == "502"
    assert restarted.find_order("coupang:999:1") is None
    assert fake.duplicate_orders == 0


@settings(max_examples=25, deadline=None)
@given(
    faults=st.lists(
        st.sampled_from([DomemeFault.TIMEOUT_AFTER, DomemeFault.TIMEOUT_BEFORE,
                         DomemeFault.SERVER_ERROR, DomemeFault.MALFORMED, DomemeFault.RATE_LIMIT]),
        max_size=6,
    )
)  # fmt: skip
def test_engine_rule_find_before_resend_never_duplicates(faults: list[DomemeFault]) -> None:
    fake = FakeDomeme(emoney=10**9)
    fake.add_item("1001", stock=10**6)
    for fault in faults:
        fake.inject(fault)
    transport = httpx.MockTransport(fake.handler)
    with stamina.set_testing(True, attempts=2):
        client = DomemeClient("test-api-key", "buyer1", "test-password", transport=transport)
        request = request_for("77")
        placed = None
        for _ in range(len(faults) + 3):
            supplier = DomemeSupplier(client, shop_name="s", recipient_for=lambda r: RECIPIENT)
            try:
                placed = supplier.find_order(request.idempotency_key)
                if placed is None:
                    placed = supplier.place_order(request)
            except ConsignError:
                continue
            break
    assert placed is not None
    assert len(fake.orders) == 1
    assert fake.duplicate_orders == 0


def test_sold_out_item_is_refused_as_stock_out_before_paying(
    supplier: DomemeSupplier, fake: FakeDomeme
) -> None:
    with pytest.raises(RejectedError) as caught:
        supplier.place_order(request_for("503", qty=5))
    assert caught.value.vendor_code == VENDOR_CODE_STOCK_OUT
    assert fake.calls_of("setOrder") == []
    assert fake.emoney == 500_000


def test_stock_error_from_set_order_is_a_stock_out(client: DomemeClient, fake: FakeDomeme) -> None:
    supplier = DomemeSupplier(
        client, shop_name="s", recipient_for=lambda r: RECIPIENT, check_stock_first=False
    )
    with pytest.raises(RejectedError) as caught:
        supplier.place_order(request_for("504", qty=5))
    assert caught.value.vendor_code == VENDOR_CODE_STOCK_OUT
    assert len(fake.calls_of("setOrder")) == 1


def test_option_stock_is_checked(client: DomemeClient, fake: FakeDomeme) -> None:
    supplier = DomemeSupplier(
        client, shop_name="s", recipient_for=lambda r: RECIPIENT, option_for=lambda r: "00_01"
    )
    supplier.place_order(request_for("505", item="2002"))
    with pytest.raises(RejectedError) as caught:
        supplier.place_order(request_for("506", item="2002"))
    assert caught.value.vendor_code == VENDOR_CODE_STOCK_OUT


def test_emoney_shortage_is_not_a_stock_out_and_not_retried(
    supplier: DomemeSupplier, fake: FakeDomeme
) -> None:
    fake.emoney = 100
    with pytest.raises(RejectedError) as caught:
        supplier.place_order(request_for("507"))
    assert caught.value.vendor_code == VENDOR_CODE_EMONEY_SHORT
    assert len(fake.calls_of("setOrder")) == 1


def test_missing_recipient_is_refused_without_calling(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    supplier = DomemeSupplier(client, shop_name="s")
    with pytest.raises(RejectedError, match="delivery details"):
        supplier.place_order(request_for("508"))
    assert fake.calls_of("setOrder") == []


def test_get_orders_follows_confirm_invoice_and_cancel(
    supplier: DomemeSupplier, fake: FakeDomeme
) -> None:
    a = supplier.place_order(request_for("600")).supplier_order_id
    b = supplier.place_order(request_for("601")).supplier_order_id
    c = supplier.place_order(request_for("602")).supplier_order_id
    fake.confirm(a)
    fake.invoice(b, courier="KGBL", number="99887766")
    fake.cancel_by_supplier(c, memo="품절되었습니다")
    by_id = {o.supplier_order_id: o for o in supplier.get_orders([a, b, c, "123"])}
    assert set(by_id) == {a, b, c}
    assert by_id[a].status is SupplierOrderStatus.CONFIRMED
    assert by_id[b].status is SupplierOrderStatus.INVOICED
    tracking = by_id[b].tracking
    assert tracking is not None
    assert (tracking.courier, tracking.number) == (Courier.LOGEN, "99887766")
    cancelled = by_id[c].cancellation
    assert cancelled is not None
    assert (cancelled.fault, cancelled.reason) == (CancelFault.SELLER, CancelReason.STOCK_OUT)
    assert cancelled.note == "품절되었습니다"


def test_supplier_cancel_for_another_reason_is_not_filed_as_stock_out(
    supplier: DomemeSupplier, fake: FakeDomeme
) -> None:
    order = supplier.place_order(request_for("603")).supplier_order_id
    fake.cancel_by_supplier(order, memo="업체 사정")
    [state] = supplier.get_orders([order])
    assert state.cancellation is not None
    assert state.cancellation.reason is CancelReason.OTHER
    assert state.cancellation.fault is CancelFault.SELLER


def test_cancel_outcomes(supplier: DomemeSupplier, fake: FakeDomeme) -> None:
    a = supplier.place_order(request_for("700")).supplier_order_id
    assert supplier.cancel_order(a, "고객 취소") is SupplierCancelOutcome.CANCELLED
    b = supplier.place_order(request_for("701")).supplier_order_id
    fake.confirm(b)
    assert supplier.cancel_order(b, "고객 취소") is SupplierCancelOutcome.REQUESTED
    fake.accept_cancel_request(b)
    [state] = supplier.get_orders([b])
    assert state.status is SupplierOrderStatus.CANCELLED
    c = supplier.place_order(request_for("702")).supplier_order_id
    fake.invoice(c)
    assert supplier.cancel_order(c, "고객 취소") is SupplierCancelOutcome.REFUSED


def test_change_feed_reports_sold_out_restock_and_price_once(
    supplier: DomemeSupplier, fake: FakeDomeme, clock: Clock
) -> None:
    fake.set_stock("1001", 0)
    fake.set_stock("1001", 7)
    fake.set_price("1001", 9_500)
    page = supplier.list_changes(None)
    assert [(c.item_id, c.stock, c.unit_cost) for c in page.changes] == [
        ("1001", 0, None),
        ("1001", 7, 9_000),
        ("1001", None, 9_500),
    ]
    assert all(c.supplier_id == "supplier1" for c in page.changes)
    again = supplier.list_changes(page.cursor)
    assert again.changes == ()
    clock.now = T0 + timedelta(days=1)
    fake.set_stock("1001", 0)
    rolled = supplier.list_changes(again.cursor)
    assert rolled.has_more
    today = supplier.list_changes(rolled.cursor)
    assert [(c.item_id, c.stock) for c in today.changes] == [("1001", 0)]


def test_get_stock_and_signals(supplier: DomemeSupplier) -> None:
    item = supplier.get_stock("supplier1", "1001")
    assert (item.stock, item.unit_cost) == (4, 9_000)
    signals = supplier.get_signals("1001")
    assert (signals.seller_rank, signals.seller_score, signals.avg_dispatch_days) == (2, 98.0, 1.5)


def test_memo_tag_round_trips_and_rejects_separators() -> None:
    assert parse_memo_tag("note " + memo_tag("coupang:1:2", "s1")) == ("coupang:1:2", "s1")
    assert parse_memo_tag("plain memo") is None
    with pytest.raises(ValidationError):
        memo_tag("a b", "s1")


def test_supplier_logs_hold_no_personal_data(
    supplier: DomemeSupplier, fake: FakeDomeme, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.inject(DomemeFault.TIMEOUT_AFTER, mode="setOrder")
    order = supplier.place_order(request_for("800"))
    fake.cancel_by_supplier(order.supplier_order_id)
    supplier.get_orders([order.supplier_order_id])
    assert caplog.records
    text = "\n".join(r.getMessage() for r in caplog.records)
    for value in (RECIPIENT.name, RECIPIENT.phone, RECIPIENT.address1, "test-password"):
        assert value not in text
    assert repr(supplier).count("test-api-key") == 0


view_fields = st.fixed_dictionaries(
    {},
    optional={
        "orderNo": st.one_of(st.integers(min_value=0), st.text(max_size=6)),
        "statusMode": st.sampled_from(
            ["WAITCHK", "WAITDELI", "WAITOK", "DONE", "DENYSELL", "DENYBUY", "", "??"]
        ),
        "status": st.sampled_from(["결제완료", "배송중", "판매취소", "x"]),
        "orderMemo": st.one_of(
            st.text(max_size=12),
            st.builds(lambda k, s: f"[CC {k} {s}]", st.text(max_size=10), st.text(max_size=5)),
            st.just("[CC coupang:1:1 supplier1]"),
        ),
        "orderQty": st.one_of(st.integers(), st.text(max_size=4), st.none()),
        "date": st.text(max_size=20),
        "denyDate": st.text(max_size=20),
        "denyMemo": st.text(max_size=10),
        "item": st.one_of(st.just(""), st.fixed_dictionaries({"no": st.integers()})),
        "delivery": st.one_of(
            st.just(""),
            st.fixed_dictionaries(
                {"company": st.sampled_from(["", "DAEHAN", "X"]), "code": st.text(max_size=6)}
            ),
        ),
    },
)


@settings(max_examples=150, deadline=None)
@given(view=view_fields, nested=st.booleans())
def test_fuzzed_order_views_give_orders_or_consign_errors_only(
    view: dict[str, object], nested: bool
) -> None:
    import json

    body = json.dumps({"domeggook": {"items": view} if nested else view})
    login = json.dumps({"domeggook": {"result": "true", "sId": "s-1"}})

    def app(request: httpx.Request) -> httpx.Response:
        mode = request.url.params.get("mode")
        return httpx.Response(200, content=(login if mode == "setLogin" else body).encode())

    client = DomemeClient("k", "u", "p", transport=httpx.MockTransport(app))
    supplier = DomemeSupplier(client, shop_name="s")
    try:
        orders = supplier.get_orders(["1"])
    except ConsignError:
        return
    for order in orders:
        assert order.quantity >= 1
        assert (order.cancellation is not None) == (order.status is SupplierOrderStatus.CANCELLED)


def test_change_feed_rows_without_seller_use_the_known_supplier(
    supplier: DomemeSupplier, fake: FakeDomeme
) -> None:
    supplier.place_order(request_for("900"))
    for change in fake.changes:
        change["seller"] = ""
    fake.set_stock("1001", 0)
    fake.changes[-1]["seller"] = ""
    page = supplier.list_changes("not-a-cursor")
    assert [(c.supplier_id, c.item_id, c.stock) for c in page.changes] == [("supplier1", "1001", 0)]


def test_an_order_found_by_its_key_but_unreadable_is_never_reported_missing(
    supplier: DomemeSupplier, fake: FakeDomeme
) -> None:
    from consign_core.errors import UnexpectedResponseError

    order = supplier.place_order(request_for("910"))
    fake.orders[order.supplier_order_id].quantity = 0
    with pytest.raises(UnexpectedResponseError, match="cannot be read"):
        supplier.find_order("coupang:910:1")


def test_the_suppliers_platform_signals_move_the_trust_models_prior(
    supplier: DomemeSupplier,
) -> None:
    # a strong Domeme seller (rank 2, score 98, dispatch in 1.5 days) starts trusted more than a
    # supplier the model knows nothing about
    from consign_core.domain.calendar import KST
    from consign_core.domain.model import Supplier
    from consign_core.domain.trust import TrustModel

    model = TrustModel()
    model.register_supplier(Supplier(supplier_id="supplier1", signals=supplier.get_signals("1001")))
    now = datetime(2025, 9, 3, 9, 0, tzinfo=KST)
    ship_by = now + timedelta(days=3)
    known = model.assess("supplier1", 1, now, ship_by)
    unknown = model.assess("nobody", 1, now, ship_by)
    assert known.p_cancel < unknown.p_cancel
