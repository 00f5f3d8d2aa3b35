"""The transport core of ``CoupangClient``: signing, throttle, retries, envelope, errors."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import attrs
import httpx
import stamina

from consign_core.adapters.coupang._auth import CoupangAuth
from consign_core.adapters.coupang._throttle import Throttle
from consign_core.adapters.coupang._types import ShipmentBoxResult
from consign_core.adapters.coupang._wire import (
    KST,
    WireBoxResults,
    decode_json,
    make_coupang_converter,
    structure_at,
)
from consign_core.errors import (
    AdapterError,
    AuthenticationError,
    ConfigurationError,
    NaiveDatetimeError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
    UnexpectedResponseError,
    ValidationError,
)


__all__ = [
    "ADAPTER",
    "API",
    "OK_CODES",
    "ORDER_STATUSES",
    "RETURN_STATUSES",
    "ClientCore",
    "Reply",
    "box_id",
    "check_status",
    "kst_day",
    "kst_minute",
]

log = logging.getLogger("consign_core.adapters.coupang")
ADAPTER = "coupang"
API = "/v2/providers/openapi/apis/api"
T = TypeVar("T")
_Retry = Literal["read", "throttled_only", "never"]

ORDER_STATUSES = frozenset(
    {"ACCEPT", "INSTRUCT", "DEPARTURE", "DELIVERING", "FINAL_DELIVERY", "NONE_TRACKING"}
)
"""The order-sheet statuses Coupang lists."""
RETURN_STATUSES = frozenset({"RU", "UC", "CC", "PR"})
OK_CODES = frozenset({"200", "SUCCESS", "OK", "PARTIAL"})
_ERROR_CODES = frozenset({"ERROR", "FAIL", "FAILURE"})
_AUTH_HINTS = ("signature", "hmac", "not authorized", "not allowed ip", "access denied")


def _retry_hook(*, reads: bool, wait_max: float) -> Callable[[Exception], bool | float]:
    """stamina's ``on=`` hook: retry 429 for any call (it is refused at the gateway, before it
    takes effect), transient failures for reads only; honour ``Retry-After`` up to
    ``wait_max`` seconds and give up (raise to the caller) when Coupang asks for longer."""

    def hook(exc: Exception) -> bool | float:
        if isinstance(exc, RateLimitedError):
            if exc.retry_after is None:
                return True
            return exc.retry_after if exc.retry_after <= wait_max else False
        return reads and isinstance(exc, TransientError)

    return hook


@attrs.frozen
class Reply:
    code: str
    message: str
    data: object
    next_token: str | None
    body: Mapping[str, object]


def box_id(value: object, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{argument} must be a positive integer id, got {value!r}"
        raise ValidationError(msg, field=argument, value=value)
    return value


def kst_day(value: object, argument: str) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(argument, value)
        return value.astimezone(KST).date()
    if isinstance(value, date):
        return value
    msg = f"{argument} must be a date or an aware datetime, got {value!r}"
    raise ValidationError(msg, field=argument, value=value)


def kst_minute(value: object, argument: str) -> datetime:
    if not isinstance(value, datetime):
        msg = f"{argument} must be an aware datetime, got {value!r}"
        raise ValidationError(msg, field=argument, value=value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(argument, value)
    return value.astimezone(KST).replace(second=0, microsecond=0)


def check_status(status: object) -> str:
    if not isinstance(status, str) or status not in ORDER_STATUSES:
        allowed = ", ".join(sorted(ORDER_STATUSES))
        msg = f"status must be one of {allowed}, got {status!r}"
        raise ValidationError(msg, field="status", value=status)
    return status


def _encode_query(pairs: Sequence[tuple[str, str]]) -> str:
    """The query exactly as sent and signed: ``+`` as ``%2B``, ``:`` kept (Coupang's examples)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe=':')}" for k, v in pairs)


class ClientCore:
    """The transport core of :class:`~consign_core.adapters.coupang.CoupangClient`: the HTTP
    client, signing, the per-vendor throttle, retries through stamina, the reply envelope and
    the error map. The calls live in the subclasses."""

    def __init__(
        self,
        vendor_id: str,
        access_key: str,
        secret_key: str,
        *,
        base_url: str = "https://api-gateway.coupang.com",
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
        user_id: str | None = None,
        requests_per_second: float = 5.0,
        throttle: Throttle | None = None,
        timeout: float = 10.0,
        extended_timeout_ms: int | None = None,
        retry_attempts: int = 3,
        retry_timeout: float = 30.0,
        retry_wait_initial: float = 0.5,
        retry_wait_max: float = 5.0,
        retry_wait_jitter: float = 0.5,
        order_api_version: str = "v5",
        write_api_version: str = "v4",
        cancel_api_version: str = "v5",
        return_api_version: str = "v6",
    ) -> None:
        vendor: object = vendor_id
        if not isinstance(vendor, str) or not re.fullmatch(r"[A-Za-z0-9]{1,32}", vendor_id):
            msg = f"vendor_id must be letters and digits like 'A00012345', got {vendor_id!r}"
            raise ConfigurationError(msg)
        user: object = user_id
        if user is not None and (not isinstance(user, str) or not user_id):
            msg = "user_id must be a non-empty string (the WING login id; not shown)"
            raise ConfigurationError(msg)
        attempts: object = retry_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or retry_attempts < 1:
            msg = f"retry_attempts must be an integer >= 1, got {retry_attempts!r}"
            raise ConfigurationError(msg)
        for name, version in (
            ("order_api_version", order_api_version),
            ("write_api_version", write_api_version),
            ("cancel_api_version", cancel_api_version),
            ("return_api_version", return_api_version),
        ):
            if not re.fullmatch(r"v[0-9]{1,2}", str(version)):
                msg = f"{name} must look like 'v5', got {version!r}"
                raise ConfigurationError(msg)
        self.vendor_id = vendor_id
        self._auth = CoupangAuth(access_key=access_key, secret_key=secret_key, clock=clock)
        self._secrets = tuple(s for s in (access_key, secret_key, user_id) if s)
        self._user_id = user_id
        self._throttle = throttle or Throttle.for_vendor(vendor_id, requests_per_second)
        headers = {
            "Content-Type": "application/json;charset=UTF-8",
            "Accept": "application/json",
            "X-Requested-By": vendor_id,
        }
        if extended_timeout_ms is not None:
            headers["X-EXTENDED-TIMEOUT"] = str(int(extended_timeout_ms))
        base: object = base_url
        if not isinstance(base, str) or not re.fullmatch(
            r"https?://[^\s/?#]+(/[^\s?#]*)?", base_url
        ):
            msg = f"base_url must be an http(s) URL without query, got {base_url!r}"
            raise ConfigurationError(msg)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=self._auth,
            transport=transport,
            timeout=timeout,
            headers=headers,
            follow_redirects=False,
            trust_env=False,
        )
        self._converter = make_coupang_converter()
        self._retry = {
            "attempts": retry_attempts,
            "timeout": retry_timeout,
            "wait_initial": retry_wait_initial,
            "wait_max": retry_wait_max,
            "wait_jitter": retry_wait_jitter,
        }
        self._read_hook = _retry_hook(reads=True, wait_max=retry_wait_max)
        self._write_hook = _retry_hook(reads=False, wait_max=retry_wait_max)
        self._orders = order_api_version
        self._offsets = int(order_api_version[1:]) >= 5  # v5 queries carry +09:00
        self._writes = write_api_version
        self._cancels = cancel_api_version
        self._returns = return_api_version

    def __repr__(self) -> str:
        return f"CoupangClient(vendor_id={self.vendor_id!r}, base_url={str(self._http.base_url)!r})"

    __str__ = __repr__

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def _vendor(self, version: str, tail: str) -> str:
        return f"{API}/{version}/vendors/{self.vendor_id}/{tail}"

    def _day(self, value: date) -> str:
        return value.isoformat() + ("+09:00" if self._offsets else "")

    def _box_results(self, reply: Reply, boxes: Sequence[int]) -> list[ShipmentBoxResult]:
        data = self._structure(reply.data, WireBoxResults, "$.data")
        by_box = {item.shipment_box_id: item for item in data.response_list}
        out: list[ShipmentBoxResult] = []
        for box in boxes:
            item = by_box.get(box)
            if item is None:
                out.append(
                    ShipmentBoxResult(
                        shipment_box_id=box,
                        succeeded=False,
                        retry_required=True,
                        result_code="NO_RESULT",
                        message="the answer had no result for this box",
                    )
                )
            else:
                out.append(
                    ShipmentBoxResult(
                        shipment_box_id=box,
                        succeeded=item.succeed,
                        retry_required=item.retry_required,
                        result_code=item.result_code or ("OK" if item.succeed else "UNKNOWN"),
                        message=self._clean(item.result_message or ""),
                    )
                )
        return out

    def _result_code(self, reply: Reply) -> None:
        data = reply.data if isinstance(reply.data, dict) else {}
        code = data.get("resultCode")
        if code is not None and str(code).upper() not in OK_CODES:
            message = self._clean(str(data.get("resultMessage") or reply.message))
            msg = f"Coupang refused the request: {message}"
            raise RejectedError(
                msg,
                adapter=ADAPTER,
                vendor_code=str(code)[:64],
            )

    # --- plumbing ----------------------------------------------------------------------------

    def _structure(self, value: object, target: type[T], path: str) -> T:
        return structure_at(self._converter, value, target, path, adapter=ADAPTER)

    def _clean(self, text: str) -> str:
        """A vendor message fit for an error or a log: no secrets, one line, bounded."""
        for secret in self._secrets:
            text = text.replace(secret, "<hidden>")
        text = " ".join(text.split())
        return text if len(text) <= 200 else text[:197] + "..."

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: object = None,
        retry: _Retry = "read",
    ) -> Reply:
        url = path + ("?" + _encode_query(query) if query else "")
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        if retry == "never":
            return self._once(method, url, content)
        on = self._read_hook if retry == "read" else self._write_hook
        for attempt in stamina.retry_context(on=on, **self._retry):  # type: ignore[arg-type]
            with attempt:
                return self._once(method, url, content)
        msg = "unreachable"
        raise AssertionError(msg)  # pragma: no cover

    def _once(self, method: str, url: str, content: bytes | None) -> Reply:
        self._throttle.acquire()
        request = self._http.build_request(method, url, content=content)
        where = f"{method} {request.url.path}"
        try:
            response = self._http.send(request)
        except httpx.TimeoutException as exc:
            log.warning("coupang %s timed out", where)
            msg = f"{where} timed out ({type(exc).__name__}); the outcome is unknown"
            raise TransientError(msg, adapter=ADAPTER) from None
        except httpx.TransportError as exc:
            log.warning("coupang %s failed: %s", where, type(exc).__name__)
            msg = f"{where} failed to connect ({type(exc).__name__})"
            raise TransientError(msg, adapter=ADAPTER) from None
        except httpx.HTTPError as exc:
            msg = f"{where} failed ({type(exc).__name__})"
            raise AdapterError(msg, adapter=ADAPTER) from None
        log.debug("coupang %s -> %d", where, response.status_code)
        return self._reply(where, response)

    def _reply(self, where: str, response: httpx.Response) -> Reply:
        status = response.status_code
        try:
            payload = decode_json(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            payload = None
        body: Mapping[str, object] = payload if isinstance(payload, dict) else {}
        request_id = body.get("transactionId") or response.headers.get("x-request-id")
        rid = self._clean(str(request_id))[:80] if request_id else None
        message = self._clean(str(body.get("message") or "")) if body else ""
        data = body.get("data")
        if status >= 300:
            raise self._error(
                where, status=status, message=message, data=data, request_id=rid, response=response
            )
        if not isinstance(payload, dict):
            msg = (
                f"unexpected response: {where} answered HTTP {status} "
                "with a body that is not a JSON object"
            )
            raise UnexpectedResponseError(msg, adapter=ADAPTER, status=status, request_id=rid)
        code = body.get("code")
        if code is None and isinstance(data, dict):
            code = data.get("code")
            if not message and data.get("message") is not None:
                message = self._clean(str(data.get("message")))
        if code is None and "data" not in body:
            msg = f"unexpected response: $.code is missing ({where})"
            raise UnexpectedResponseError(msg, adapter=ADAPTER, status=status, request_id=rid)
        text = "" if code is None else str(code).strip().upper()
        if isinstance(code, dict | list) or (text and len(text) > 32):
            msg = f"unexpected response: $.code must be a number or a short string ({where})"
            raise UnexpectedResponseError(msg, adapter=ADAPTER, status=status, request_id=rid)
        numeric = re.fullmatch(r"[0-9]{1,4}", text) is not None
        if text in _ERROR_CODES or (numeric and int(text) >= 300):
            envelope_status = int(text) if numeric else 400
            raise self._error(
                where,
                status=envelope_status,
                message=message,
                data=data,
                request_id=rid,
                response=response,
            )
        if text and text not in OK_CODES and not numeric:
            msg = f"unexpected response: $.code must be a success or error code, got {text[:32]!r}"
            raise UnexpectedResponseError(msg, adapter=ADAPTER, status=status, request_id=rid)
        token = body.get("nextToken")
        if token is not None and not isinstance(token, str | int):
            msg = f"unexpected response: $.nextToken must be a string, got {token!r}"
            raise UnexpectedResponseError(msg, adapter=ADAPTER, status=status, request_id=rid)
        next_token = str(token) if token not in (None, "") else None
        return Reply(code=text, message=message, data=data, next_token=next_token, body=body)

    def _error(
        self,
        where: str,
        *,
        status: int,
        message: str,
        data: object,
        request_id: str | None,
        response: httpx.Response,
    ) -> AdapterError:
        vendor_code = None
        if isinstance(data, dict) and data.get("resultCode") is not None:
            vendor_code = self._clean(str(data.get("resultCode")))[:64]
        said = message or ("a non-JSON body" if response.content else "an empty body")
        text = f"{where} -> HTTP {status}: {said}"
        kwargs: dict[str, Any] = {
            "adapter": ADAPTER,
            "status": status,
            "vendor_code": vendor_code,
            "request_id": request_id,
        }
        log.warning("coupang %s -> HTTP %d (%s)", where, status, vendor_code or "-")
        lowered = message.lower()
        if status in (401, 403) or (status < 500 and any(h in lowered for h in _AUTH_HINTS)):
            return AuthenticationError(text, **kwargs)
        if status in (301, 302, 303, 307, 308):
            return AuthenticationError(
                f"{text} (Coupang redirects blocked IPs or vendor ids)", **kwargs
            )
        if status == 404:
            return NotFoundError(text, **kwargs)
        if status == 429:
            retry_after = _retry_after(response.headers.get("retry-after"))
            return RateLimitedError(text, retry_after=retry_after, **kwargs)
        if status >= 500 or status == 408:
            return TransientError(text, **kwargs)
        return RejectedError(text, **kwargs)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and 0 <= seconds <= 3600 else None
