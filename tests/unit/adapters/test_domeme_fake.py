"""FakeDomeme itself: the ledger, the e-money, sessions, quota and faults behave like the
reference says Domeme does (raw calls, no adapter)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from consign_core.testing.fake_domeme import DomemeFault, FakeDomeme, FakeDomemeDroppedError


T0 = datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)
DELIINFO = "홍길동||06236|서울|1층|010-1234-5678||가게|"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def call(fake: FakeDomeme, mode: str, ver: str, method: str = "GET", **fields: str) -> Any:
    query = {"ver": ver, "mode": mode, "aid": fake.api_key, "om": "json"}
    if method == "GET":
        query.update(fields)
        status, _, body = fake.dispatch("GET", query, {})
    else:
        status, _, body = fake.dispatch("POST", query, fields)
    assert status == 200
    return json.loads(body)


def login(fake: FakeDomeme) -> dict[str, str]:
    reply = call(fake, "setLogin", "4.1", "POST", id="buyer1", pw="test-password")
    return {"id": "buyer1", "sId": reply["domeggook"]["sId"]}


def order(fake: FakeDomeme, session: dict[str, str], qty: int = 1, memo: str = "m") -> Any:
    return call(
        fake,
        "setOrder",
        "4.3",
        "POST",
        **session,
        **{"item[1001]": f"supply||P||00|{qty}||{memo}", "deliinfo": DELIINFO},
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeDomeme:
    fake = FakeDomeme(clock=clock, emoney=50_000)
    fake.add_item("1001", price=10_000, stock=3, shipping_fee=3_000)
    return fake


def test_order_debits_emoney_and_stock(fake: FakeDomeme) -> None:
    reply = order(fake, login(fake), qty=2)
    assert reply["domeggook"]["result"] == "SUCCESS"
    assert fake.emoney == 50_000 - 23_000
    assert fake.items["1001"].stock == 1


def test_supplier_cancel_refunds_and_buyer_cancel_also_restocks(fake: FakeDomeme) -> None:
    session = login(fake)
    first = order(fake, session)["domeggook"]["order"]["orderNo"]
    fake.cancel_by_supplier(str(first))
    assert fake.emoney == 50_000
    assert fake.items["1001"].stock == 2
    second = order(fake, session)["domeggook"]["order"]["orderNo"]
    reply = call(fake, "setOrdDeny", "1.0", "POST", **session, type="buy", no=str(second), memo="x")
    assert reply["domeggook"]["result"] == "complete"
    assert fake.items["1001"].stock == 2
    assert fake.emoney == 50_000


def test_quantity_over_stock_and_short_emoney_are_refused(fake: FakeDomeme) -> None:
    session = login(fake)
    assert order(fake, session, qty=4)["errors"]["dcode"] == "ITEM_ERROR"
    fake.emoney = 5_000
    refused = order(fake, session)["errors"]
    assert (refused["code"], refused["dcode"]) == ("21", "TOO_LESS_EMONEY_ERROR")
    assert fake.orders == {}


def test_sessions_expire_after_their_ttl(fake: FakeDomeme, clock: Clock) -> None:
    session = login(fake)
    assert "domeggook" in call(fake, "getMyAsset", "1.0", "POST", **session)
    clock.now = T0 + timedelta(hours=13)
    expired = call(fake, "getMyAsset", "1.0", "POST", **session)
    assert expired["errors"]["dcode"] == "INCORRECT_CERTIFICATE"


def test_wrong_key_unknown_mode_and_wrong_method_are_refused(fake: FakeDomeme) -> None:
    _, _, body = fake.dispatch("GET", {"ver": "4.5", "mode": "getItemView", "aid": "x"}, {})
    assert json.loads(body)["errors"]["dcode"] == "UNAUTHORIZED"
    assert call(fake, "getCategoryList", "4.1")["errors"]["code"] == "404"
    assert "errors" in call(fake, "setOrder", "4.3", "GET")


def test_one_result_lists_are_objects_and_numbers_are_strings(fake: FakeDomeme) -> None:
    session = login(fake)
    order(fake, session)
    listing = call(fake, "getOrderList", "4.0", **session, **{"for": "buy"})["domeggook"]
    assert isinstance(listing["list"], dict)
    assert isinstance(listing["list"]["orderNo"], str)
    view = call(fake, "getItemView", "4.5", no="1001", market="supply")["domeggook"]
    assert view["qty"]["inventory"] == "2"


def test_quota_answers_429_past_the_per_minute_limit() -> None:
    now = [0.0]
    fake = FakeDomeme(rate_limit_per_minute=2, monotonic=lambda: now[0])
    fake.add_item("1001")
    query = {"ver": "4.5", "mode": "getItemView", "aid": fake.api_key, "om": "json", "no": "1001"}
    statuses = [fake.dispatch("GET", query, {})[0] for _ in range(3)]
    now[0] = 61.0
    statuses.append(fake.dispatch("GET", query, {})[0])
    assert statuses == [200, 200, 429, 200]


def outcome(fake: FakeDomeme, query: dict[str, str]) -> str:
    try:
        return str(fake.dispatch("GET", query, {})[0])
    except FakeDomemeDroppedError:
        return "dropped"


def test_random_faults_are_reproducible_by_seed() -> None:
    def run(seed: int) -> list[str]:
        fake = FakeDomeme(fault_rate=0.5, seed=seed)
        fake.add_item("1001")
        query = {"ver": "4.5", "mode": "getItemView", "aid": fake.api_key, "om": "json"}
        return [outcome(fake, {**query, "no": "1001"}) for _ in range(20)]

    assert run(7) == run(7)
    assert len(set(run(7))) > 1


def test_timeout_after_effect_places_the_order_then_drops(fake: FakeDomeme) -> None:
    session = login(fake)
    fake.inject(DomemeFault.TIMEOUT_AFTER, mode="setOrder")
    with pytest.raises(FakeDomemeDroppedError):
        order(fake, session)
    assert len(fake.orders) == 1


def test_mock_transport_handler_raises_an_httpx_timeout(fake: FakeDomeme) -> None:
    fake.inject(DomemeFault.TIMEOUT_BEFORE)
    client = httpx.Client(transport=httpx.MockTransport(fake.handler))
    with client, pytest.raises(httpx.TimeoutException):
        client.get("https://domeggook.com/ssl/api/", params={"mode": "getItemView"})


def test_invoice_then_shipped_order_cannot_be_cancelled_by_the_supplier(fake: FakeDomeme) -> None:
    number = order(fake, login(fake))["domeggook"]["order"]["orderNo"]
    fake.invoice(str(number), courier="HYUNDAI", number="1234")
    with pytest.raises(ValueError, match="cannot cancel"):
        fake.cancel_by_supplier(str(number))
