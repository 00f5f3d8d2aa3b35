"""The Domeme Private API order calls: e-money, ``setOrder``, the order list and view,
``setOrdDeny``; and the ``deliinfo`` / ``item[...]`` field formats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from consign_core.adapters.domeme._errors import ADAPTER
from consign_core.adapters.domeme._session import (
    ClientCore,
    check_text,
    get_field,
    item_no_of,
    order_no_of,
    whole_at_least,
)
from consign_core.adapters.domeme._wire_orders import (
    AssetReply,
    CancelReply,
    OrderListPage,
    OrderView,
    PlaceOrderReply,
)
from consign_core.adapters.domeme._wire_parse import as_rows
from consign_core.domain._validators import int_at_least, non_empty_str, optional
from consign_core.domain.model import Recipient
from consign_core.errors import UnexpectedResponseError, ValidationError


__all__ = ["OrderCalls", "OrderLine", "deliinfo"]

_CANCEL_RESULTS = frozenset({"true", "complete", "req"})


@attrs.frozen(kw_only=True)
class OrderLine:
    """One option line of a ``setOrder`` item: an option code and a quantity."""

    option: str | None = attrs.field(validator=optional(non_empty_str))
    """The option code (``None`` or ``00``: the item has no options)."""
    quantity: int = attrs.field(validator=int_at_least(1))
    """Units."""


def _field_text(value: str) -> str:
    """A value for a ``|``-joined field: no separators, no line breaks."""
    return " ".join(value.replace("|", " ").split())


class OrderCalls(ClientCore):
    """E-money and orders (Private API)."""

    def get_balance(self) -> AssetReply:
        """``getMyAsset``: points and e-money (``emoney.cash`` pays orders)."""
        body = self._private("getMyAsset", {})
        data = body.get("data", body)
        return self._structure(
            {"points": get_field(data, "currPoint"), "emoney": get_field(data, "currEmoney")},
            AssetReply,
            "getMyAsset",
        )

    def place_order(
        self,
        *,
        item_no: str | int,
        lines: Sequence[OrderLine],
        recipient: Recipient,
        shop_name: str,
        memo: str = "",
        email: str = "",
        extra_phone: str = "",
        customs_code: str = "",
        delivery_who: str = "P",
    ) -> PlaceOrderReply:
        """``setOrder`` 4.3: order (and pay at once, from cash e-money) one item.

        Never retried: a timeout or 5xx raises :class:`~consign_core.errors.TransientError`
        saying the outcome is unknown; look the order up by ``memo`` before trying again.
        """
        number = item_no_of(item_no)
        if not lines:
            msg = "lines must hold at least one option line"
            raise ValidationError(msg, field="lines", value=lines)
        if not _is_recipient(recipient):
            msg = "recipient must be a Recipient"
            raise ValidationError(msg, field="recipient", value=type(recipient).__name__)
        check_text("shop_name", shop_name)
        parts: list[str] = []
        for line in lines:
            if not whole_at_least(line.quantity, 1):
                msg = f"quantity must be a whole number >= 1, got {line.quantity!r}"
                raise ValidationError(msg, field="quantity", value=line.quantity)
            parts.append(f"{_option_code(line.option)}|{line.quantity}")
        item = f"{self.market}||{delivery_who}||{'|'.join(parts)}||{_field_text(memo)}"
        if recipient.memo:
            item += f"||{_field_text(recipient.memo)}"
        params = {
            f"item[{number}]": item,
            "deliinfo": deliinfo(
                recipient,
                shop_name=shop_name,
                email=email,
                extra_phone=extra_phone,
                customs_code=customs_code,
            ),
            "receipt": "0",
            "ie": "utf-8",
            "oe": "utf-8",
        }
        hidden = _recipient_values(recipient)
        body = self._private("setOrder", params, hidden=hidden)
        reply = self._structure(body, PlaceOrderReply, "setOrder")
        if not reply.orders:
            msg = "setOrder: unexpected reply: no order @ $.domeggook.order"
            raise UnexpectedResponseError(msg, adapter=ADAPTER)
        return reply

    def list_orders(
        self,
        *,
        days: int | None = None,
        item_no: str | int | None = None,
        status_label: str | None = None,
        page: int = 1,
        size: int = 100,
    ) -> OrderListPage:
        """``getOrderList for=buy``: our orders, newest first."""
        params: dict[str, str] = {"for": "buy", "pg": str(page), "ic": str(size)}
        if days is not None:
            params["day"] = str(days)
        if item_no is not None:
            params["itemNo"] = item_no_of(item_no)
        if status_label:
            params["st"] = status_label
        body = self._private("getOrderList", params)
        header = body.get("header") if isinstance(body.get("header"), Mapping) else body
        rows = as_rows(get_field(body, "list") or get_field(body, "items"))
        payload = {
            "orders": rows,
            "total": get_field(header, "numberOfItems"),
            "pages": get_field(header, "numberOfPages"),
        }
        return self._structure(payload, OrderListPage, "getOrderList")

    def get_order(self, order_no: str | int) -> OrderView:
        """``getOrderView for=buy``: one order's status, waybill and cancellation."""
        body = self._private("getOrderView", {"for": "buy", "no": order_no_of(order_no)})
        items = body.get("items")
        payload = items if isinstance(items, Mapping) else body
        if isinstance(items, list) and len(items) == 1:
            payload = items[0]
        return self._structure(payload, OrderView, "getOrderView")

    def cancel_order(self, order_no: str | int, memo: str) -> str:
        """``setOrdDeny type=buy``: ``"true"`` or ``"complete"`` (cancelled) or ``"req"`` (a
        request the supplier must accept). Not retried."""
        check_text("memo", memo)
        params = {"type": "buy", "no": order_no_of(order_no), "memo": memo}
        body = self._private("setOrdDeny", params)
        reply = self._structure(body, CancelReply, "setOrdDeny")
        result = reply.result.strip().lower()
        if result not in _CANCEL_RESULTS:
            msg = "setOrdDeny: unexpected reply: result not true/complete/req @ $.domeggook.result"
            raise UnexpectedResponseError(msg, adapter=ADAPTER)
        return result


def _is_recipient(value: object) -> bool:
    return isinstance(value, Recipient)


def _option_code(option: str | None) -> str:
    if option is None or option == "":
        return "00"
    text = option.strip()
    if not text or not all(part.isdigit() for part in text.split("_")):
        msg = f"option must be an option code like '00' or '00_01', got {option!r}"
        raise ValidationError(msg, field="option", value=option)
    return text


def _recipient_values(recipient: Recipient) -> tuple[str, ...]:
    return tuple(
        v
        for v in (
            recipient.name,
            recipient.phone,
            recipient.zip_code,
            recipient.address1,
            recipient.address2,
            recipient.memo,
        )
        if v
    )


def deliinfo(
    recipient: Recipient,
    *,
    shop_name: str,
    email: str = "",
    extra_phone: str = "",
    customs_code: str = "",
) -> str:
    """``deliinfo``: the guide's nine ``|``-joined fields, ``성명|이메일|우편번호|주소1|주소2|
    휴대전화|추가연락처|쇼핑몰명|통관고유부호``, from the buyer's delivery details."""
    fields = (
        recipient.name,
        email,
        recipient.zip_code,
        recipient.address1,
        recipient.address2,
        recipient.phone,
        extra_phone,
        shop_name,
        customs_code,
    )
    return "|".join(_field_text(f) for f in fields)
