"""Domeme error codes as data: what each ``errors.code`` / ``errors.dcode`` means and does.

Domeme answers most errors with HTTP 200 and ``{"errors": {"code", "message", "dcode",
"dmessage"}}``. :func:`classify` names the kind of each code; the client turns the kind into
one of the library's errors (:func:`to_error`). A code not in the table is a generic refusal
that keeps the code, except that a refusal whose code or message says the stock is short is a
stock-out, and one that says the e-money is short is an e-money shortage.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from consign_core.engine.ports import VENDOR_CODE_STOCK_OUT
from consign_core.errors import (
    AdapterError,
    AuthenticationError,
    NotFoundError,
    RejectedError,
)


__all__ = [
    "DOMEME_ERROR_CODES",
    "VENDOR_CODE_EMONEY_SHORT",
    "ErrorKind",
    "WireError",
    "classify",
    "scrub",
    "to_error",
]

ADAPTER = "domeme"

VENDOR_CODE_EMONEY_SHORT = "EMONEY_SHORT"
"""``AdapterError.vendor_code`` of an e-money shortage (``TOO_LESS_EMONEY_ERROR``,
``LACK_MONEY``, code ``21``): a person tops up the cash e-money; never a stock-out, never
retried."""


class ErrorKind(enum.Enum):
    """What a Domeme error code means for the caller."""

    AUTHENTICATION = "authentication"
    """The API key is invalid (``401`` / ``UNAUTHORIZED``)."""
    PERMISSION = "permission"
    """No permission for this API: Private API not approved, or not from the fixed IP."""
    SESSION = "session"
    """The session (``sId``) expired: log in again and repeat the call once."""
    NO_SERVICE = "no_service"
    """No API for this ``mode`` + ``ver`` pair (a bug or a retired API)."""
    BAD_PARAMETER = "bad_parameter"
    """A parameter is missing or invalid."""
    ITEM = "item"
    """The item does not exist or cannot be viewed or bought."""
    STOCK_OUT = "stock_out"
    """The stock is short of the quantity (품절 / 재고 부족)."""
    EMONEY = "emoney"
    """Not enough cash e-money to pay the order."""
    RECIPIENT = "recipient"
    """The delivery details (``deliinfo``) were refused: a person must fix them."""
    REFUSED = "refused"
    """Any other refusal (kept with its code)."""


@attrs.frozen(kw_only=True)
class CodeInfo:
    """One documented code: its kind and what it means."""

    kind: ErrorKind
    """What it means for the caller."""
    meaning: str
    """In words."""


DOMEME_ERROR_CODES: Mapping[str, CodeInfo] = MappingProxyType(
    {
        "401": CodeInfo(kind=ErrorKind.AUTHENTICATION, meaning="API 인증 실패: invalid API key"),
        "UNAUTHORIZED": CodeInfo(
            kind=ErrorKind.AUTHENTICATION, meaning="유효하지 않은 API Key: invalid API key"
        ),
        "403": CodeInfo(
            kind=ErrorKind.PERMISSION,
            meaning="no permission for this API (Private API not approved, or not the fixed IP)",
        ),
        "404": CodeInfo(
            kind=ErrorKind.NO_SERVICE,
            meaning="해당 오픈 API 서비스가 없습니다: no API for this mode and ver",
        ),
        "10": CodeInfo(kind=ErrorKind.BAD_PARAMETER, meaning="a parameter is missing or invalid"),
        "ITEM_ERROR": CodeInfo(kind=ErrorKind.ITEM, meaning="the item is missing or not viewable"),
        "21": CodeInfo(kind=ErrorKind.EMONEY, meaning="주문 실패: not enough cash e-money"),
        "TOO_LESS_EMONEY_ERROR": CodeInfo(
            kind=ErrorKind.EMONEY, meaning="현금성 이머니가 부족: not enough cash e-money"
        ),
        "LACK_MONEY": CodeInfo(kind=ErrorKind.EMONEY, meaning="not enough e-money (older name)"),
        "ORDER_CONSUMER_MOBILE_ERROR": CodeInfo(
            kind=ErrorKind.RECIPIENT, meaning="the recipient's mobile number is invalid"
        ),
        "INCORRECT_CERTIFICATE": CodeInfo(
            kind=ErrorKind.SESSION, meaning="the session expired: the call did nothing"
        ),
    }
)
"""Every Domeme error code this adapter knows (from the reference's table): code -> kind."""

_STOCK_WORDS = re.compile(r"재고|품절|수량.*(초과|부족)|SOLD_?OUT|STOCK|INVENTORY|_QTY|QTY_", re.I)
_EMONEY_WORDS = re.compile(r"이머니|EMONEY|LACK_MONEY|잔액", re.I)


@attrs.frozen(kw_only=True)
class WireError:
    """The ``errors`` block of a reply."""

    code: str = ""
    """``errors.code`` (``"401"``, ``"21"``...)."""
    message: str = ""
    """``errors.message``."""
    dcode: str = ""
    """``errors.dcode`` (``UNAUTHORIZED``, ``TOO_LESS_EMONEY_ERROR``...)."""
    dmessage: str = ""
    """``errors.dmessage``."""

    @property
    def vendor_code(self) -> str:
        """The most specific code given: ``dcode``, else ``code``."""
        return self.dcode or self.code or "UNKNOWN"


def classify(error: WireError) -> ErrorKind:
    """The kind of an error: by ``dcode``, then ``code``, then by what the text says."""
    for key in (error.dcode, error.code):
        info = DOMEME_ERROR_CODES.get(key.strip().upper()) if key else None
        if info is not None and info.kind is not ErrorKind.ITEM:
            return info.kind
    text = f"{error.dcode} {error.code} {error.message} {error.dmessage}"
    if _EMONEY_WORDS.search(text):
        return ErrorKind.EMONEY
    if _STOCK_WORDS.search(text):
        return ErrorKind.STOCK_OUT
    if "ITEM_ERROR" in {error.dcode.upper(), error.code.upper()}:
        return ErrorKind.ITEM
    return ErrorKind.REFUSED


_PHONE = re.compile(r"\+?\d[\d\s-]{7,}\d")


def scrub(text: str, hidden: Iterable[str]) -> str:
    """``text`` without any of ``hidden`` (secrets, the recipient's details) and without
    anything shaped like a phone number."""
    for value in sorted((h for h in hidden if h and len(h) >= 2), key=len, reverse=True):
        text = text.replace(value, "<hidden>")
    return _PHONE.sub("<hidden>", text)


def to_error(  # noqa: PLR0911 - one return per kind reads as the table it is
    error: WireError, *, mode: str, hidden: Iterable[str] = (), status: int = 200
) -> AdapterError:
    """The library error for a Domeme error reply to ``mode``."""
    kind = classify(error)
    said = scrub(f"{error.message} / {error.dmessage}".strip(" /"), hidden)
    where = f"{mode} refused ({error.vendor_code}: {said})"
    code = error.vendor_code
    if kind is ErrorKind.AUTHENTICATION:
        text = f"{where}: check the API key"
        return AuthenticationError(text, adapter=ADAPTER, status=status, vendor_code=code)
    if kind is ErrorKind.PERMISSION:
        text = f"{where}: the Private API needs approval, from the approved fixed IP"
        return AuthenticationError(text, adapter=ADAPTER, status=status, vendor_code=code)
    if kind is ErrorKind.SESSION:
        text = f"{where}: the session expired and logging in again did not help"
        return AuthenticationError(text, adapter=ADAPTER, status=status, vendor_code=code)
    if kind is ErrorKind.STOCK_OUT:
        text = f"{where}: sold out (stock short of the quantity)"
        return RejectedError(
            text, adapter=ADAPTER, status=status, vendor_code=VENDOR_CODE_STOCK_OUT
        )
    if kind is ErrorKind.EMONEY:
        text = f"{where}: top up the cash e-money (not a stock-out; not retried)"
        return RejectedError(
            text, adapter=ADAPTER, status=status, vendor_code=VENDOR_CODE_EMONEY_SHORT
        )
    if kind is ErrorKind.ITEM and not mode.startswith("set"):
        text = f"{where}: no such item, or it cannot be viewed"
        return NotFoundError(text, adapter=ADAPTER, status=status, vendor_code=code)
    if kind is ErrorKind.RECIPIENT:
        text = f"{where}: a person must fix the delivery details"
        return RejectedError(text, adapter=ADAPTER, status=status, vendor_code=code)
    return RejectedError(where, adapter=ADAPTER, status=status, vendor_code=code)
