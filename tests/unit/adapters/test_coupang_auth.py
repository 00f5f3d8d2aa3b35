"""CoupangAuth: the CEA HMAC-SHA256 signature against the reference's golden vectors."""

from __future__ import annotations

import string
from datetime import datetime, timezone

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.adapters.coupang import CoupangAuth, sign
from consign_core.errors import ConfigurationError, ConsignError, NaiveDatetimeError
from consign_core.testing.fake_coupang import FakeCoupang
from tests.strategies import examples


V = "/v2/providers/openapi/apis/api"
GOLDEN = [
    # (secret, signed date, method, path, query, expected) -- third-party fixed vectors
    ("test-secret-key", "260327T071000Z", "GET",
     ("/v2/providers/seller_api/apis/api/v1/marketplace/meta/category-related-metas/"
      "display-category-codes/37544"), "",
     "fc06546ec1c834c3f328ae8099f563f15c260f9bd31a6d43efdaa1974330b9ec"),
    ("test-secret", "240102T030405Z", "GET",
     "/v2/providers/seller_api/apis/api/v1/marketplace/seller-products/123456", "",
     "585cc27a40a213b6dbcc6786ddd544dd788ba14e3412f1166fcce3380d9043e9"),
    ("test-secret", "260915T010203Z", "POST",
     "/v2/providers/affiliate_open_api/apis/openapi/v1/deeplink", "",
     "89ba557a6e32614c173b665d0207fb0441aaf9e2605a61a78bfe4771de9bc57b"),
    # the project's vectors (access key test-access-key, signed 250715T010203Z)
    ("test-secret-key", "250715T010203Z", "GET", f"{V}/v5/vendors/A00012345/ordersheets",
     "createdAtFrom=2025-07-15%2B09:00&createdAtTo=2025-07-16%2B09:00&maxPerPage=50&status=ACCEPT",
     "c0e12d3d3f1d46b0c301148d887c21ddb7e99f2aadf260c89aca0657881ba692"),
    ("test-secret-key", "250715T010203Z", "GET", f"{V}/v4/vendors/A00012345/ordersheets",
     "createdAtFrom=2025-07-15&createdAtTo=2025-07-16&maxPerPage=50&status=ACCEPT",
     "d005b86aaba6f51b086fe6003f1a525f4bec29a5b4771ab2b6bd4d9614dac6fc"),
    ("test-secret-key", "250715T010203Z", "PUT",
     f"{V}/v4/vendors/A00012345/ordersheets/acknowledgement", "",
     "dd50a95d0a9ce82aba046359c0da75fc03ae2e116e0428c397633ffe6fcc88e6"),
    ("test-secret-key", "250715T010203Z", "POST", f"{V}/v4/vendors/A00012345/orders/invoices", "",
     "3ef5e1b6ce01b39507cef9a91acf8f8a411404238e68189334f85b94079c8dcc"),
    ("test-secret-key", "250715T010203Z", "GET", f"{V}/v6/vendors/A00012345/returnRequests",
     "createdAtFrom=2025-07-15&createdAtTo=2025-07-15&cancelType=CANCEL",
     "90e749b08620e154d8528768e637b22c2c1f366add3df06eca7d4e7aa14f76a0"),
]  # fmt: skip
NEGATIVE = "b17928f1dddb6ee8b5963057c3dcd4130b7c7207c3b9942517ede59178eb8341"
AT = datetime(2025, 7, 15, 1, 2, 3, tzinfo=timezone.utc)


@pytest.mark.parametrize("vector", GOLDEN)
def test_sign_reproduces_every_golden_vector(vector: tuple[str, ...]) -> None:
    secret, date, method, path, query, expected = vector
    assert sign(secret, signed_date=date, method=method, path=path, query=query) == expected


@pytest.mark.parametrize("vector", GOLDEN[3:])
def test_auth_header_signs_the_raw_path_and_query_as_sent(vector: tuple[str, ...]) -> None:
    secret, date, method, path, query, expected = vector
    auth = CoupangAuth(access_key="test-access-key", secret_key=secret, clock=lambda: AT)
    url = f"https://api-gateway.coupang.com{path}" + (f"?{query}" if query else "")
    request = next(auth.auth_flow(httpx.Request(method, url)))
    assert request.headers["Authorization"] == (
        "CEA algorithm=HmacSHA256, access-key=test-access-key, "
        f"signed-date={date}, signature={expected}"
    )


def test_signing_with_the_question_mark_gives_the_rejected_negative_vector() -> None:
    _, date, method, path, query, good = GOLDEN[3]
    wrong = sign("test-secret-key", signed_date=date, method=method, path=path + "?", query=query)
    assert wrong == NEGATIVE
    assert wrong != good


def test_signed_date_is_utc_whatever_the_clock_zone() -> None:
    from datetime import timedelta

    kst = timezone(timedelta(hours=9))
    auth = CoupangAuth(access_key="a", secret_key="s", clock=lambda: AT.astimezone(kst))  # noqa: S106
    assert auth.signed_date() == "250715T010203Z"


def test_a_naive_clock_is_refused_with_a_typed_error() -> None:
    naive = datetime(2025, 7, 15)  # noqa: DTZ001 - the point of the test
    auth = CoupangAuth(access_key="a", secret_key="s", clock=lambda: naive)  # noqa: S106
    with pytest.raises(NaiveDatetimeError):
        auth.signed_date()


@pytest.mark.parametrize(
    ("access", "secret"),
    [("", "SK-distinct-99"), ("AK-distinct-11", ""), ("AK distinct 11", "SK-distinct-99"),
     ("AK,distinct,11", "SK-distinct-99"), (None, "SK-distinct-99")],
)  # fmt: skip
def test_bad_keys_raise_configuration_errors_without_the_values(
    access: object, secret: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        CoupangAuth(access_key=access, secret_key=secret)  # type: ignore[arg-type]
    assert isinstance(info.value, ConsignError)
    assert "distinct" not in str(info.value)


def test_repr_and_str_hide_both_keys() -> None:
    auth = CoupangAuth(access_key="AK-visible-123", secret_key="SK-visible-456")  # noqa: S106
    for text in (repr(auth), str(auth)):
        assert "AK-visible-123" not in text
        assert "SK-visible-456" not in text


@settings(max_examples=examples(100))
@given(
    segment=st.text(
        alphabet=string.ascii_letters + string.digits + "-_.~", min_size=1, max_size=20
    ),
    params=st.lists(st.tuples(st.text(min_size=1, max_size=8), st.text(max_size=12)), max_size=4),
    method=st.sampled_from(["GET", "PUT", "POST", "PATCH", "DELETE"]),
)
def test_the_fake_gateway_accepts_whatever_the_auth_signs(
    segment: str, params: list[tuple[str, str]], method: str
) -> None:
    fake = FakeCoupang(clock=lambda: AT, requests_per_second=None)
    auth = CoupangAuth(access_key="test-access-key", secret_key="test-secret-key",  # noqa: S106
                       clock=lambda: AT)  # fmt: skip
    url = httpx.URL(f"https://api-gateway.coupang.com/v2/x/{segment}", params=params)
    request = next(auth.auth_flow(httpx.Request(method, url)))
    response = fake(request)
    assert response.status_code == 404  # signed correctly, then routed: no such API
