"""FakeDomeme's shared parts: the faults it injects, the calls it records, the status labels
and the envelope helpers of its answers."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import httpx


__all__ = [
    "KST",
    "LABELS",
    "DomemeFault",
    "FakeDomemeCall",
    "FakeDomemeDroppedError",
    "error",
    "int_param",
    "ok",
    "one_as_object",
    "parse_item_spec",
    "wire_time",
]

KST = timezone(timedelta(hours=9), "KST")
"""Korea Standard Time: the wire's times carry no zone."""

LABELS = {
    "WAITCHK": "결제완료",
    "WAITDELI": "배송준비중",
    "WAITOK": "배송중",
    "DONE": "구매종료",
    "DENYBUY": "구매취소",
    "DENYSELL": "판매취소",
}
"""``statusMode`` -> its Korean status label."""


class DomemeFault(enum.Enum):
    """A fault the fake can inject into one call."""

    RATE_LIMIT = "rate_limit"
    """HTTP 429 before the call does anything."""
    SERVER_ERROR = "server_error"
    """HTTP 503 before the call does anything."""
    TIMEOUT_BEFORE = "timeout_before"
    """The connection drops before the call does anything."""
    TIMEOUT_AFTER = "timeout_after"
    """The call takes effect, then the connection drops (the caller cannot know)."""
    MALFORMED = "malformed"
    """The call takes effect, then the body is not JSON."""


class FakeDomemeDroppedError(httpx.ReadTimeout):
    """The fake dropped the connection without an answer (raised in-process; on a socket
    the connection is closed instead)."""


@attrs.define(kw_only=True)
class FakeDomemeCall:
    """One call the fake received. ``params`` hold secrets: never shown in the repr."""

    method: str
    """``GET`` or ``POST``."""
    mode: str
    """The API name."""
    version: str
    """``ver``."""
    params: dict[str, str] = attrs.field(repr=False)
    """Query and form fields together."""
    query: dict[str, str] = attrs.field(repr=False)
    """The query string fields."""
    form: dict[str, str] = attrs.field(repr=False)
    """The form fields (POST)."""


def ok(body: dict[str, Any]) -> dict[str, Any]:
    return {"domeggook": body}


def error(code: str, message: str, dcode: str, dmessage: str) -> dict[str, Any]:
    return {"errors": {"code": code, "message": message, "dcode": dcode, "dmessage": dmessage}}


def one_as_object(rows: list[dict[str, Any]]) -> list[dict[str, Any]] | dict[str, Any]:
    return rows[0] if len(rows) == 1 else rows


def int_param(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() and int(value) > 0 else default


def wire_time(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S")


def parse_item_spec(spec: str) -> tuple[list[tuple[str, int]], str, str] | None:
    """``market||who||opt|qty[|opt|qty]||memo[||request]`` -> (options, memo, request)."""
    parts = spec.split("||")
    if len(parts) < 4 or parts[0] not in {"supply", "dome"}:
        return None
    flat = parts[2].split("|")
    if len(flat) % 2:
        return None
    options: list[tuple[str, int]] = []
    for option, qty in zip(flat[::2], flat[1::2], strict=True):
        if not qty.isdigit() or int(qty) < 1:
            return None
        options.append((option, int(qty)))
    return options, parts[3], parts[4] if len(parts) > 4 else ""
