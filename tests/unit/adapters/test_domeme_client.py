"""DomemeClient against FakeDomeme in process: every call's parameters, sessions, throttling,
retries, and secrets and personal data kept out of reprs, logs and errors."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Iterator

import httpx
import pytest
import stamina

from consign_core.adapters.domeme import (
    VENDOR_CODE_EMONEY_SHORT,
    DomemeClient,
    OrderLine,
    RateLimiter,
    deliinfo,
)
from consign_core.domain.model import Recipient
from consign_core.engine.ports import VENDOR_CODE_STOCK_OUT
from consign_core.errors import (
    AuthenticationError,
    ConfigurationError,
    ConsignError,
    RateLimitedError,
    RejectedError,
    TransientError,
    UnexpectedResponseError,
    ValidationError,
)
from consign_core.testing.fake_domeme import DomemeFault, FakeDomeme


API_KEY = "aid-SECRET-7f3a"
PASSWORD = "pw-SECRET-91c2"  # noqa: S105 - a fake account's placeholder
RECIPIENT = Recipient(
    name="김민지",
    phone="010-2345-6789",
    zip_code="06236",
    address1="서울특별시 강남구 테헤란로 152",
    address2="12층 1201호",
    memo="문 앞에 놓아주세요",
)
PERSONAL = (
    RECIPIENT.name,
    RECIPIENT.phone,
    RECIPIENT.address1,
    RECIPIENT.address2,
    RECIPIENT.memo,
    "2345-6789",
)


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


@pytest.fixture
def fake() -> FakeDomeme:
    fake = FakeDomeme(api_key=API_KEY, user_id="buyer1", password=PASSWORD, emoney=100_000)
    fake.add_item("1001", price=12_000, stock=5, shipping_fee=3_000)
    fake.add_item("2002", price=5_000, stock=10, options={"00_01": 3, "00_02": 0})
    return fake


@pytest.fixture
def client(fake: FakeDomeme) -> DomemeClient:
    return DomemeClient(API_KEY, "buyer1", PASSWORD, transport=httpx.MockTransport(fake.handler))


def secrets_of(fake: FakeDomeme) -> list[str]:
    sids = [c.params["sId"] for c in fake.calls if c.params.get("sId")]
    return [API_KEY, PASSWORD, *sids]


def assert_clean(text: str, fake: FakeDomeme) -> None:
    for secret in (*secrets_of(fake), *PERSONAL):
        assert secret not in text


def place(client: DomemeClient, item: str = "1001", qty: int = 1, option: str | None = None):  # type: ignore[no-untyped-def]
    return client.place_order(
        item_no=item,
        lines=[OrderLine(option=option, quantity=qty)],
        recipient=RECIPIENT,
        shop_name="민지상회",
        memo="[CC coupang:1:1 supplier1]",
    )


def error_of(action: Callable[[], object]) -> ConsignError | None:
    try:
        action()
    except ConsignError as exc:
        return exc
    return None


# --------------------------------------------------------------------------------------
# Parameters of every call
# --------------------------------------------------------------------------------------


def test_item_view_sends_the_open_api_parameters(client: DomemeClient, fake: FakeDomeme) -> None:
    client.get_item("1001")
    [call] = fake.calls_of("getItemView")
    assert call.method == "GET"
    assert call.query == {
        "ver": "4.5",
        "mode": "getItemView",
        "aid": API_KEY,
        "om": "json",
        "no": "1001",
        "market": "supply",
    }


def test_item_list_sends_search_parameters(client: DomemeClient, fake: FakeDomeme) -> None:
    client.list_items(keyword="상품", seller_id="supplier1", page=2, size=50)
    [call] = fake.calls_of("getItemList")
    assert call.method == "GET"
    assert call.query["ver"] == "4.1"
    assert (call.query["kw"], call.query["id"]) == ("상품", "supplier1")
    assert (call.query["pg"], call.query["sz"], call.query["market"]) == ("2", "50", "supply")


def test_login_posts_id_password_and_keeps_the_session(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    client.get_balance()
    client.get_balance()
    [login] = fake.calls_of("setLogin")
    assert login.method == "POST"
    assert login.query == {"ver": "4.1", "mode": "setLogin", "aid": API_KEY, "om": "json"}
    assert login.form["id"] == "buyer1"
    assert login.form["pw"] == PASSWORD
    assert login.form["loginKeep"] == "on"
    assert login.form["device"] == "Third Party"
    assert fake.logins == 1


def test_balance_posts_with_session(client: DomemeClient, fake: FakeDomeme) -> None:
    balance = client.get_balance()
    [call] = fake.calls_of("getMyAsset")
    assert call.method == "POST"
    assert call.query["ver"] == "1.0"
    assert call.form["id"] == "buyer1"
    assert call.form["sId"] in fake.sessions
    assert balance.emoney.cash == 100_000


def test_set_order_posts_the_item_string_and_nine_deliinfo_fields(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    reply = place(client, item="2002", qty=2, option="00_01")
    [call] = fake.calls_of("setOrder")
    assert call.method == "POST"
    assert call.query == {"ver": "4.3", "mode": "setOrder", "aid": API_KEY, "om": "json"}
    assert call.form["item[2002]"] == (
        "supply||P||00_01|2||[CC coupang:1:1 supplier1]||문 앞에 놓아주세요"
    )
    fields = call.form["deliinfo"].split("|")
    assert fields == [
        "김민지",
        "",
        "06236",
        "서울특별시 강남구 테헤란로 152",
        "12층 1201호",
        "010-2345-6789",
        "",
        "민지상회",
        "",
    ]
    assert (call.form["receipt"], call.form["ie"], call.form["oe"]) == ("0", "utf-8", "utf-8")
    assert reply.orders[0].order_no in fake.orders
    assert fake.emoney == 100_000 - (2 * 5_000 + 3_000)


def test_single_option_item_is_sent_as_option_00(client: DomemeClient, fake: FakeDomeme) -> None:
    place(client)
    [call] = fake.calls_of("setOrder")
    assert call.form["item[1001]"].startswith("supply||P||00|1||")


def test_deliinfo_strips_separators_from_personal_fields() -> None:
    recipient = Recipient(name="a|b", phone="010-1111-2222", zip_code="1", address1="x\ny")
    assert deliinfo(recipient, shop_name="s").split("|")[0] == "a b"
    assert deliinfo(recipient, shop_name="s").count("|") == 8


def test_order_list_view_cancel_and_feed_send_their_parameters(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    order_no = place(client).orders[0].order_no
    client.list_orders(days=7, item_no="1001", page=1, size=20)
    client.get_order(f"OR{order_no}")
    client.cancel_order(order_no, "고객 변심")
    client.list_changes(date="20261207", item_no="1001")
    [listing] = fake.calls_of("getOrderList")
    assert listing.method == "GET"
    assert (listing.query["for"], listing.query["day"], listing.query["itemNo"]) == (
        "buy",
        "7",
        "1001",
    )
    assert listing.query["ver"] == "4.0"
    [view] = fake.calls_of("getOrderView")
    assert (view.query["for"], view.query["no"]) == ("buy", order_no)
    [deny] = fake.calls_of("setOrdDeny")
    assert deny.method == "POST"
    assert (deny.form["type"], deny.form["no"], deny.form["memo"]) == ("buy", order_no, "고객 변심")
    [feed] = fake.calls_of("getAllSupplyChk")
    assert (feed.query["type"], feed.query["date"], feed.query["sc"], feed.query["sw"]) == (
        "all",
        "20261207",
        "no",
        "1001",
    )
    assert "SOLDOUT" in feed.query["status"].split("_")


# --------------------------------------------------------------------------------------
# Order lifecycle through the fake
# --------------------------------------------------------------------------------------


def test_status_mode_progression_is_read(client: DomemeClient, fake: FakeDomeme) -> None:
    order_no = place(client).orders[0].order_no
    assert client.get_order(order_no).status_mode == "WAITCHK"
    fake.confirm(order_no)
    assert client.get_order(order_no).status_mode == "WAITDELI"
    fake.invoice(order_no, courier="HYUNDAI", number="123456789012")
    view = client.get_order(order_no)
    assert (view.status_mode, view.delivery.company, view.delivery.code) == (
        "WAITOK",
        "HYUNDAI",
        "123456789012",
    )


def test_supplier_cancellation_carries_date_and_memo(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    order_no = place(client).orders[0].order_no
    fake.cancel_by_supplier(order_no, memo="재고 소진으로 판매취소")
    view = client.get_order(order_no)
    assert view.status_mode == "DENYSELL"
    assert view.deny_memo == "재고 소진으로 판매취소"
    assert view.deny_date


def test_buyer_cancel_is_complete_before_confirmation_and_req_after(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    first = place(client).orders[0].order_no
    assert client.cancel_order(first, "취소") == "complete"
    second = place(client).orders[0].order_no
    fake.confirm(second)
    assert client.cancel_order(second, "취소") == "req"


def test_buyer_cancel_after_shipping_is_refused(client: DomemeClient, fake: FakeDomeme) -> None:
    order_no = place(client).orders[0].order_no
    fake.invoice(order_no)
    with pytest.raises(RejectedError):
        client.cancel_order(order_no, "취소")


# --------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------


def test_stock_short_of_quantity_is_a_stock_out(client: DomemeClient, fake: FakeDomeme) -> None:
    with pytest.raises(RejectedError) as caught:
        place(client, qty=6)
    assert caught.value.vendor_code == VENDOR_CODE_STOCK_OUT
    assert fake.orders == {}


def test_emoney_shortage_is_refused_once_and_never_a_stock_out(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    fake.emoney = 1_000
    with pytest.raises(RejectedError) as caught:
        place(client)
    assert caught.value.vendor_code == VENDOR_CODE_EMONEY_SHORT
    assert "e-money" in str(caught.value)
    assert len(fake.calls_of("setOrder")) == 1


def test_invalid_mobile_is_refused_without_quoting_it(client: DomemeClient) -> None:
    bad = Recipient(name="김민지", phone="999", zip_code="06236", address1="서울")
    with pytest.raises(RejectedError) as caught:
        client.place_order(
            item_no="1001", lines=[OrderLine(option=None, quantity=1)], recipient=bad,
            shop_name="가게",
        )  # fmt: skip
    assert caught.value.vendor_code == "ORDER_CONSUMER_MOBILE_ERROR"
    assert "김민지" not in str(caught.value)


def test_wrong_api_key_is_an_authentication_error(fake: FakeDomeme) -> None:
    client = DomemeClient("wrong", "buyer1", PASSWORD, transport=httpx.MockTransport(fake.handler))
    with pytest.raises(AuthenticationError):
        client.get_item("1001")


def test_private_api_without_approval_is_an_authentication_error(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    fake.private_api_approved = False
    with pytest.raises(AuthenticationError, match="approval"):
        client.get_balance()


def test_bad_arguments_raise_validation_errors_naming_the_field(client: DomemeClient) -> None:
    with pytest.raises(ValidationError, match="item_no"):
        client.get_item("12a")
    with pytest.raises(ValidationError, match="order_no"):
        client.get_order("X-1")
    with pytest.raises(ValidationError, match="option"):
        place(client, option="red")
    with pytest.raises(ValidationError, match="quantity"):
        place(client, qty=0)


def test_bad_settings_raise_configuration_errors() -> None:
    with pytest.raises(ConfigurationError):
        DomemeClient("k", "u", "p", market="eleven")
    with pytest.raises(ConfigurationError):
        RateLimiter(0)
    with pytest.raises(ValidationError, match="api_key"):
        DomemeClient("", "u", "p")


# --------------------------------------------------------------------------------------
# Sessions, throttling, retries
# --------------------------------------------------------------------------------------


def test_expired_session_logs_in_again_and_repeats_once(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    client.get_balance()
    fake.expire_sessions()
    assert client.get_balance().emoney.cash == 100_000
    assert fake.logins == 2
    assert len(fake.calls_of("getMyAsset")) == 3


def test_expired_session_on_set_order_repeats_it_once_without_duplicating(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    client.get_balance()
    fake.expire_sessions()
    place(client)
    assert len(fake.calls_of("setOrder")) == 2
    assert len(fake.orders) == 1


def test_http_429_raises_rate_limited_with_retry_after(
    client: DomemeClient, fake: FakeDomeme
) -> None:
    fake.inject(DomemeFault.RATE_LIMIT)
    with pytest.raises(RateLimitedError) as caught:
        client.get_item("1001")
    assert caught.value.retry_after == 180.0
    assert len(fake.calls_of("getItemView")) == 1


def test_reads_are_retried_on_5xx(client: DomemeClient, fake: FakeDomeme) -> None:
    fake.inject(DomemeFault.SERVER_ERROR, mode="getItemView", times=2)
    assert client.get_item("1001").qty.inventory == 5
    assert len(fake.calls_of("getItemView")) == 3


def test_reads_give_up_after_the_attempts(client: DomemeClient, fake: FakeDomeme) -> None:
    fake.inject(DomemeFault.TIMEOUT_BEFORE, mode="getItemView", times=5)
    with pytest.raises(TransientError):
        client.get_item("1001")
    assert len(fake.calls_of("getItemView")) == 3


def test_set_order_is_never_retried_after_a_timeout(client: DomemeClient, fake: FakeDomeme) -> None:
    client.get_balance()
    fake.inject(DomemeFault.TIMEOUT_AFTER, mode="setOrder")
    with pytest.raises(TransientError, match="unknown"):
        place(client)
    assert len(fake.calls_of("setOrder")) == 1
    assert len(fake.orders) == 1


def test_set_order_is_never_retried_after_a_5xx(client: DomemeClient, fake: FakeDomeme) -> None:
    fake.inject(DomemeFault.SERVER_ERROR, mode="setOrder")
    with pytest.raises(TransientError):
        place(client)
    assert len(fake.calls_of("setOrder")) == 1


def test_malformed_body_is_an_unexpected_response(client: DomemeClient, fake: FakeDomeme) -> None:
    fake.inject(DomemeFault.MALFORMED, mode="getItemView")
    with pytest.raises(UnexpectedResponseError, match="not JSON"):
        client.get_item("1001")


def test_rate_limiter_waits_when_the_window_is_full() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(3, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.acquire()
    now[0] = 10.0
    limiter.acquire()
    assert slept == [50.0]


def test_client_spaces_calls_to_the_configured_rate(fake: FakeDomeme) -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    client = DomemeClient(
        API_KEY,
        "buyer1",
        PASSWORD,
        transport=httpx.MockTransport(fake.handler),
        rate_limit_per_minute=2,
        monotonic=lambda: now[0],
        sleep=sleep,
    )
    for _ in range(3):
        client.get_item("1001")
    assert slept == [60.0]
    assert client.calls == 3


# --------------------------------------------------------------------------------------
# Secrets and personal data
# --------------------------------------------------------------------------------------


def test_reprs_hide_secrets(client: DomemeClient, fake: FakeDomeme) -> None:
    client.get_balance()
    place(client)
    texts = [repr(client), str(client), repr(fake), *map(repr, fake.calls)]
    texts += [repr(o) for o in fake.orders.values()]
    for text in texts:
        assert_clean(text, fake)


def test_logs_hold_no_secrets_or_personal_data_on_success_and_failure(
    client: DomemeClient, fake: FakeDomeme, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.get_item("1001")
    place(client)
    fake.expire_sessions()
    client.get_balance()
    fake.inject(DomemeFault.TIMEOUT_AFTER, mode="setOrder")
    fake.inject(DomemeFault.SERVER_ERROR, mode="getItemView")
    fake.inject(DomemeFault.RATE_LIMIT, mode="getOrderList")
    actions = (
        lambda: place(client),
        lambda: client.get_item("1001"),
        client.list_orders,
        lambda: place(client, qty=99),
    )
    errors = [e for e in map(error_of, actions) if e is not None]
    fake.emoney = 0
    with pytest.raises(RejectedError) as caught:
        place(client)
    errors.append(caught.value)
    assert len(errors) == 4
    assert caplog.records
    for record in caplog.records:
        assert_clean(record.getMessage(), fake)
    for error in errors:
        assert_clean(str(error), fake)
        assert_clean(repr(error), fake)
        assert error.__cause__ is None or isinstance(error.__cause__, ConsignError)


def test_errors_on_every_path_hold_no_secrets(fake: FakeDomeme) -> None:
    wrong = DomemeClient(
        API_KEY, "buyer1", "nope-" + PASSWORD, transport=httpx.MockTransport(fake.handler)
    )
    with pytest.raises(AuthenticationError) as caught:
        wrong.get_balance()
    assert PASSWORD not in str(caught.value)
    bad_key = DomemeClient(
        "bad-" + API_KEY, "buyer1", PASSWORD, transport=httpx.MockTransport(fake.handler)
    )
    with pytest.raises(AuthenticationError) as caught_key:
        bad_key.get_item("1001")
    assert API_KEY not in str(caught_key.value)


def test_the_library_imports_without_httpx() -> None:
    code = (
        "import sys; sys.modules['httpx'] = None; sys.modules['stamina'] = None\n"
        "import consign_core, consign_core.adapters, consign_core.testing\n"
        "try:\n"
        "    import consign_core.adapters.domeme\n"
        "except ImportError:\n"
        "    print('needs httpx')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "needs httpx"


def test_session_code_on_an_open_api_call_is_an_authentication_error() -> None:
    body = b'{"errors":{"code":"10","dcode":"INCORRECT_CERTIFICATE","dmessage":"x"}}'
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    client = DomemeClient("k", "u", "p", transport=transport)
    with pytest.raises(AuthenticationError):
        client.get_item("1")


def test_session_code_twice_is_an_authentication_error(fake: FakeDomeme) -> None:
    body = b'{"errors":{"code":"10","dcode":"INCORRECT_CERTIFICATE","dmessage":"x"}}'

    def app(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("mode") == "setLogin":
            return fake.handler(request)
        return httpx.Response(200, content=body)

    client = DomemeClient(API_KEY, "buyer1", PASSWORD, transport=httpx.MockTransport(app))
    with pytest.raises(AuthenticationError, match="session"):
        client.get_balance()
    assert fake.logins == 2


def test_api_versions_can_be_overridden(fake: FakeDomeme) -> None:
    transport = httpx.MockTransport(fake.handler)
    client = DomemeClient(
        API_KEY, "buyer1", PASSWORD, transport=transport, versions={"getItemView": "4.6"}
    )
    client.get_item("1001")
    assert fake.calls_of("getItemView")[0].version == "4.6"
    with pytest.raises(ConfigurationError, match="getNothing"):
        DomemeClient(API_KEY, "buyer1", PASSWORD, versions={"getNothing": "1.0"})


def test_daily_quota_is_refused_locally_until_kst_midnight(fake: FakeDomeme) -> None:
    from datetime import datetime, timedelta, timezone

    now = [datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc)]  # 23:00 KST
    client = DomemeClient(
        API_KEY,
        "buyer1",
        PASSWORD,
        transport=httpx.MockTransport(fake.handler),
        clock=lambda: now[0],
        rate_limit_per_day=2,
    )
    client.get_item("1001")
    client.get_item("1001")
    with pytest.raises(RateLimitedError) as caught:
        client.get_item("1001")
    assert caught.value.retry_after == 3600.0
    assert len(fake.calls_of("getItemView")) == 2
    now[0] += timedelta(hours=1)
    client.get_item("1001")
    assert client.calls_by_mode["getItemView"] == 3
