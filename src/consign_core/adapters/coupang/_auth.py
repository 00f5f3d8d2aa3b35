"""Coupang's CEA HMAC-SHA256 request signing, as an :class:`httpx.Auth`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Generator
from datetime import datetime, timezone

import httpx

from consign_core.errors import ConfigurationError, NaiveDatetimeError


__all__ = ["CoupangAuth", "sign"]

_DATE_FORMAT = "%y%m%dT%H%M%SZ"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def sign(secret_key: str, *, signed_date: str, method: str, path: str, query: str = "") -> str:
    """The lowercase hex HMAC-SHA256 of ``signed_date + METHOD + path + query``.

    ``query`` is the query string exactly as sent on the wire, without the leading ``?``.
    """
    message = f"{signed_date}{method.upper()}{path}{query}"
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


class CoupangAuth(httpx.Auth):
    """Signs every request with Coupang's ``CEA algorithm=HmacSHA256`` ``Authorization`` header.

    The message is the signed date (UTC, ``yyMMddTHHmmssZ``), the method, the path and the query
    exactly as they go on the wire (split from ``request.url.raw_path`` at the first ``?``, which
    is not signed); the body is never signed. ``clock`` returns an aware datetime (default: the
    real UTC clock); a signature is good only near its date, so it is made anew per request.
    The keys never appear in a repr, str or error.
    """

    def __init__(
        self,
        *,
        access_key: str,
        secret_key: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        pairs: tuple[tuple[str, object], ...] = (
            ("access_key", access_key),
            ("secret_key", secret_key),
        )
        for name, value in pairs:
            if not isinstance(value, str) or not value.strip():
                msg = f"CoupangAuth.{name} must be a non-empty string (the value is secret)"
                raise ConfigurationError(msg)
        if any(c in access_key for c in ", \r\n"):
            msg = "CoupangAuth.access_key must not contain commas, spaces or line breaks"
            raise ConfigurationError(msg)
        self._access_key = access_key
        self._secret_key = secret_key
        self._clock = clock or _utcnow

    def __repr__(self) -> str:
        return "CoupangAuth(access_key=<hidden>, secret_key=<hidden>)"

    __str__ = __repr__

    def signed_date(self) -> str:
        """The clock's current time in the format Coupang signs (``yyMMddTHHmmssZ``, UTC)."""
        now: object = self._clock()
        if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
            msg = "CoupangAuth clock()"
            raise NaiveDatetimeError(msg, now)
        return now.astimezone(timezone.utc).strftime(_DATE_FORMAT)

    def authorization(self, method: str, raw_path: bytes | str) -> str:
        """The ``Authorization`` header value for ``method`` on ``raw_path`` (path + ``?query``)."""
        target = raw_path.decode("ascii") if isinstance(raw_path, bytes) else raw_path
        path, _, query = target.partition("?")
        date = self.signed_date()
        signature = sign(self._secret_key, signed_date=date, method=method, path=path, query=query)
        return (
            f"CEA algorithm=HmacSHA256, access-key={self._access_key}, "
            f"signed-date={date}, signature={signature}"
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.authorization(request.method, request.url.raw_path)
        yield request
