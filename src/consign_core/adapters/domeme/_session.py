"""The Domeme client's core: one endpoint, the session, the rate limits and the wire errors.

One endpoint (``/ssl/api/``), dispatched on ``mode`` + ``ver``; ``get*`` calls are GET,
``set*`` calls (and ``getMyAsset``) are form POSTs. Errors come back with HTTP 200 under
``errors``; HTTP 429 means throttled. Reads are retried (stamina) on transient trouble; writes
never are: ``setOrder`` pays at once, so after a timeout its outcome is unknown and the caller
must look the order up (by the memo key) before any new attempt. The calls themselves live in
``_item_calls`` (items and their change feed) and ``_order_calls`` (e-money and orders).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import cattrs
import httpx
import stamina

from consign_core.adapters.domeme._errors import (
    ADAPTER,
    ErrorKind,
    WireError,
    classify,
    to_error,
)
from consign_core.adapters.domeme._wire_orders import LoginReply
from consign_core.adapters.domeme._wire_parse import make_domeme_converter, structure_reply
from consign_core.errors import (
    AdapterError,
    ConfigurationError,
    RateLimitedError,
    TransientError,
    UnexpectedResponseError,
    ValidationError,
)


__all__ = [
    "DEFAULT_BASE_URL",
    "ClientCore",
    "RateLimiter",
    "check_text",
    "get_field",
    "item_no_of",
    "order_no_of",
    "whole_at_least",
]

T = TypeVar("T")

_KST = timezone(timedelta(hours=9), "KST")

DEFAULT_BASE_URL = "https://domeggook.com/ssl/api/"
"""The API's one endpoint."""

_log = logging.getLogger("consign_core.adapters.domeme")

_VERSIONS: Mapping[str, str] = {
    "getItemView": "4.5",
    "getItemList": "4.1",
    "setLogin": "4.1",
    "getMyAsset": "1.0",
    "setOrder": "4.3",
    "getOrderList": "4.0",
    "getOrderView": "4.1",
    "setOrdDeny": "1.0",
    "getAllSupplyChk": "1.1",
}
_POST = frozenset({"setLogin", "getMyAsset", "setOrder", "setOrdDeny"})
_READS = frozenset(_VERSIONS) - {"setOrder", "setOrdDeny"}


_SECRET_PARAMS = re.compile(r"\b(aid|sId|pw)=[^&\s\"']*")


class _RedactSecrets(logging.Filter):
    """Hides ``aid``, ``sId`` and ``pw`` in httpx's request log lines (the Open API takes
    the key in the query string, and httpx logs each request's URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if _SECRET_PARAMS.search(text):
            record.msg, record.args = _SECRET_PARAMS.sub(r"\1=<hidden>", text), ()
        return True


def _install_redaction() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactSecrets) for f in logger.filters):
        logger.addFilter(_RedactSecrets())


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class RateLimiter:
    """At most ``per_minute`` calls in any 60 seconds (a sliding window; thread-safe)."""

    def __init__(
        self,
        per_minute: int = 180,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not whole_at_least(per_minute, 1):
            msg = f"rate_limit_per_minute must be a whole number >= 1, got {per_minute!r}"
            raise ConfigurationError(msg)
        self.per_minute = per_minute
        self._monotonic = monotonic
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait (if needed) until one more call fits in the window, and count it."""
        with self._lock:
            while True:
                now = self._monotonic()
                while self._calls and now - self._calls[0] >= 60.0:
                    self._calls.popleft()
                if len(self._calls) < self.per_minute:
                    self._calls.append(now)
                    return
                self._sleep(60.0 - (now - self._calls[0]))


def check_text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        msg = f"{name} must be a non-empty string, got {value!r}"
        raise ValidationError(msg, field=name, value=value)
    return value


class ClientCore:
    """The transport, session, quota and error handling every Domeme call goes through
    (:class:`~consign_core.adapters.domeme.DomemeClient` adds the calls)."""

    def __init__(
        self,
        api_key: str,
        user_id: str,
        password: str,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
        base_url: str = DEFAULT_BASE_URL,
        market: str = "supply",
        timeout: float = 20.0,
        rate_limit_per_minute: int = 180,
        rate_limit_per_day: int | None = 15_000,
        read_attempts: int = 3,
        login_keep: bool = True,
        login_ip: str | None = None,
        user_agent: str = "consign-core",
        versions: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api_key = check_text("api_key", api_key)
        self.user_id = check_text("user_id", user_id)
        self._password = check_text("password", password)
        if market not in {"supply", "dome"}:
            msg = f"market must be 'supply' (Domeme) or 'dome' (Domeggook), got {market!r}"
            raise ConfigurationError(msg)
        if not whole_at_least(read_attempts, 1):
            msg = f"read_attempts must be a whole number >= 1, got {read_attempts!r}"
            raise ConfigurationError(msg)
        unknown = sorted(set(versions or {}) - set(_VERSIONS))
        if unknown:
            msg = f"versions names unknown API modes: {', '.join(unknown)}"
            raise ConfigurationError(msg)
        self.versions: Mapping[str, str] = {**_VERSIONS, **(versions or {})}
        """The ``ver`` sent for each ``mode`` (override one when Domeggook moves it)."""
        self.market = market
        self.base_url = base_url
        self.clock = clock or _utcnow
        self.read_attempts = read_attempts
        self._login_keep = login_keep
        self._login_ip = login_ip
        self._user_agent = user_agent
        self.limiter = RateLimiter(rate_limit_per_minute, monotonic=monotonic, sleep=sleep)
        if rate_limit_per_day is not None and not whole_at_least(rate_limit_per_day, 1):
            got = rate_limit_per_day
            msg = f"rate_limit_per_day must be a whole number >= 1 or None, got {got!r}"
            raise ConfigurationError(msg)
        self.rate_limit_per_day = rate_limit_per_day
        self.calls_by_mode: Counter[str] = Counter()
        """HTTP requests sent, per API mode."""
        self._day: tuple[str, int] = ("", 0)
        self._quota_lock = threading.Lock()
        _install_redaction()
        self._http = httpx.Client(base_url=base_url, transport=transport, timeout=timeout)
        self._converter: cattrs.Converter = make_domeme_converter()
        self._sid: str | None = None
        self._session_lock = threading.Lock()
        self.calls = 0
        """HTTP requests sent (for quota accounting)."""

    def __repr__(self) -> str:
        return f"DomemeClient(user_id={self.user_id!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def login(self) -> None:
        """``setLogin``: open a session (``sId``), kept for later calls."""
        with self._session_lock:
            self._login_locked()

    def _login_locked(self) -> None:
        params = {
            "id": self.user_id,
            "pw": self._password,
            "loginKeep": "on" if self._login_keep else "off",
            "userAgent": self._user_agent,
            "device": "Third Party",
        }
        if self._login_ip:
            params["ip"] = self._login_ip
        body = self._send("setLogin", params, private=False)
        reply = self._structure(body, LoginReply, "setLogin")
        if not reply.sid or reply.result.lower() not in {"true", "success", "1"}:
            msg = "setLogin: unexpected reply: no session id @ $.domeggook.sId"
            raise UnexpectedResponseError(msg, adapter=ADAPTER)
        self._sid = reply.sid
        _log.info("domeme: logged in as %s", self.user_id)

    # ----------------------------------------------------------------------------------
    # Plumbing
    # ----------------------------------------------------------------------------------

    def _structure(self, payload: object, cls: type[T], mode: str) -> T:
        return structure_reply(self._converter, payload, cls, path="$.domeggook", mode=mode)

    def _private(
        self, mode: str, params: Mapping[str, str], *, hidden: Sequence[str] = ()
    ) -> dict[str, Any]:
        """A Private API call with the session; on ``INCORRECT_CERTIFICATE`` (the call did
        nothing) log in again and repeat it once."""
        with self._session_lock:
            if self._sid is None:
                self._login_locked()
            sid = self._sid
        try:
            return self._send(mode, params, private=True, sid=sid, hidden=hidden)
        except _SessionExpiredError:
            _log.info("domeme: session expired on %s; logging in again", mode)
            with self._session_lock:
                if self._sid == sid:
                    self._login_locked()
                sid = self._sid
            try:
                return self._send(mode, params, private=True, sid=sid, hidden=hidden)
            except _SessionExpiredError as again:
                raise again.error from None

    def _send(
        self,
        mode: str,
        params: Mapping[str, str],
        *,
        private: bool,
        sid: str | None = None,
        hidden: Sequence[str] = (),
    ) -> dict[str, Any]:
        if mode in _READS:
            caller = stamina.RetryingCaller(
                attempts=self.read_attempts, wait_initial=0.5, wait_max=10.0
            ).on(TransientError)
            return caller(self._once, mode, params, private=private, sid=sid, hidden=hidden)
        return self._once(mode, params, private=private, sid=sid, hidden=hidden)

    def _once(
        self,
        mode: str,
        params: Mapping[str, str],
        *,
        private: bool,
        sid: str | None,
        hidden: Sequence[str],
    ) -> dict[str, Any]:
        query = {"ver": self.versions[mode], "mode": mode, "aid": self._api_key, "om": "json"}
        fields = dict(params)
        if private:
            fields["id"] = self.user_id
            fields["sId"] = sid or ""
        secrets = (self._api_key, self._password, sid or "", *hidden)
        self._count_today(mode)
        self.limiter.acquire()
        self.calls += 1
        self.calls_by_mode[mode] += 1
        started = time.monotonic()
        try:
            if mode in _POST:
                response = self._http.post("", params=query, data=fields)
            else:
                response = self._http.get("", params={**query, **fields})
        except httpx.TimeoutException:
            raise self._transient(mode, "timed out") from None
        except httpx.TransportError:
            raise self._transient(mode, "connection failed") from None
        elapsed = time.monotonic() - started
        _log.debug("domeme: %s -> HTTP %s in %.2fs", mode, response.status_code, elapsed)
        return self._read(mode, response, secrets, private=private)

    def _count_today(self, mode: str) -> None:
        """Count the call against the daily quota (KST days); refuse it locally when spent."""
        now = self.clock().astimezone(_KST)
        today = now.strftime("%Y%m%d")
        with self._quota_lock:
            day, used = self._day if self._day[0] == today else (today, 0)
            if self.rate_limit_per_day is not None and used >= self.rate_limit_per_day:
                midnight = (now + timedelta(days=1)).replace(
                    hour=0, minute=0, second=0, microsecond=0
                )
                wait = (midnight - now).total_seconds()
                msg = (
                    f"{mode} not sent: the daily quota of {self.rate_limit_per_day} calls is spent"
                )
                raise RateLimitedError(msg, adapter=ADAPTER, retry_after=wait)
            self._day = (day, used + 1)

    def _transient(self, mode: str, what: str, status: int | None = None) -> TransientError:
        if mode == "setOrder":
            what += ": the order's outcome is unknown; find it by its memo key before retrying"
        _log.warning("domeme: %s %s", mode, what)
        return TransientError(f"{mode} {what}", adapter=ADAPTER, status=status)

    def _read(
        self, mode: str, response: httpx.Response, secrets: Sequence[str], *, private: bool
    ) -> dict[str, Any]:
        status = response.status_code
        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            _log.warning("domeme: %s throttled (HTTP 429), retry after %ss", mode, retry_after)
            msg = f"{mode} throttled (HTTP 429): over the call quota, wait {retry_after:g}s"
            raise RateLimitedError(msg, adapter=ADAPTER, status=429, retry_after=retry_after)
        if status >= 500:
            raise self._transient(mode, f"failed (HTTP {status})", status)
        if status >= 400:
            error = to_error(WireError(code=str(status)), mode=mode, hidden=secrets, status=status)
            raise error
        try:
            document = json.loads(response.content)
        except ValueError:
            msg = f"{mode}: unexpected reply: not JSON @ $"
            raise UnexpectedResponseError(msg, adapter=ADAPTER, status=status) from None
        if not isinstance(document, Mapping):
            msg = f"{mode}: unexpected reply: not an object @ $"
            raise UnexpectedResponseError(msg, adapter=ADAPTER, status=status)
        wire_error = _find_error(document)
        if wire_error is not None:
            kind = classify(wire_error)
            error = to_error(wire_error, mode=mode, hidden=secrets, status=status)
            _log.warning("domeme: %s refused with %s", mode, wire_error.vendor_code)
            if kind is ErrorKind.SESSION and private:
                raise _SessionExpiredError(error)
            raise error
        body = document.get("domeggook")
        if not isinstance(body, Mapping):
            msg = f"{mode}: unexpected reply: no object @ $.domeggook"
            raise UnexpectedResponseError(msg, adapter=ADAPTER, status=status)
        return dict(body)


class _SessionExpiredError(Exception):
    """Internal: the session expired (the call did nothing); carries the public error."""

    def __init__(self, error: AdapterError) -> None:
        super().__init__(str(error))
        self.error = error


def whole_at_least(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def get_field(mapping: object, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, Mapping) else None


def _find_error(document: Mapping[str, Any]) -> WireError | None:
    body = document.get("domeggook")
    for block in (
        document.get("errors"),
        document.get("error"),
        get_field(body, "errors"),
        get_field(body, "error"),
    ):
        first = block[0] if isinstance(block, list) and block else block
        if isinstance(first, Mapping):
            return WireError(
                code=_text(first.get("code")),
                message=_text(first.get("message")),
                dcode=_text(first.get("dcode")),
                dmessage=_text(first.get("dmessage")),
            )
    return None


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _retry_after(header: str | None) -> float:
    try:
        value = float(header) if header is not None else 180.0
    except ValueError:
        return 180.0
    return value if value >= 0 else 180.0


def item_no_of(value: str | int) -> str:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit():
        msg = f"item_no must be digits, got {value!r}"
        raise ValidationError(msg, field="item_no", value=value)
    return text


def order_no_of(value: str | int) -> str:
    text = str(value).strip().upper().removeprefix("OR").strip()
    if isinstance(value, bool) or not text.isdigit():
        msg = f"order_no must be digits (an OR prefix is allowed), got {value!r}"
        raise ValidationError(msg, field="order_no", value=value)
    return text
