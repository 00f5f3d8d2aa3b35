"""FakeDomeme's supplier side: its items and stock ledger, the e-money balance, the orders
and the supplier actor that confirms, invoices or cancels them (``_domeme_api`` answers the
API from this state)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs

from consign_core.testing._domeme_common import KST, wire_time


__all__ = ["DomemeLedger", "FakeDomemeOrder", "FakeItem"]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@attrs.define(kw_only=True)
class FakeItem:
    """One item on sale (the fake's side)."""

    no: str
    seller_id: str
    title: str
    price: int
    stock: int
    options: dict[str, int]
    option_prices: dict[str, int]
    shipping_fee: int
    seller_rank: int
    seller_score: float
    send_avg: float
    status: str


@attrs.define(kw_only=True, repr=False)
class FakeDomemeOrder:
    """One order in the fake (its ``deliinfo`` is personal data: not in the repr)."""

    order_no: str
    item_no: str
    option: str
    quantity: int
    amount: int
    memo: str
    deliinfo: str
    delivery_request: str
    placed_at: datetime
    status_mode: str = "WAITCHK"
    courier: str = ""
    tracking: str = ""
    deny_date: datetime | None = None
    deny_memo: str = ""
    cancel_requested: bool = False

    def __repr__(self) -> str:
        return f"FakeDomemeOrder(order_no={self.order_no!r}, status_mode={self.status_mode!r})"


class DomemeLedger:
    """Items, stock, e-money and orders, and the supplier actor that moves the orders."""

    def __init__(
        self,
        *,
        emoney: int,
        clock: Callable[[], datetime] | None,
        string_numbers: bool,
        stock_out_dcode: str,
        first_order_no: int,
    ) -> None:
        self.emoney = emoney
        """Cash e-money (KRW)."""
        self.clock = clock or _utcnow
        self.string_numbers = string_numbers
        self.stock_out_dcode = stock_out_dcode
        self._next_order = first_order_no
        self._lock = threading.RLock()
        self.items: dict[str, FakeItem] = {}
        self.orders: dict[str, FakeDomemeOrder] = {}
        self.changes: list[dict[str, Any]] = []

    # ----------------------------------------------------------------------------------
    # Set-up and the supplier actor
    # ----------------------------------------------------------------------------------

    def add_item(
        self,
        item_no: str,
        *,
        seller_id: str = "supplier1",
        title: str = "테스트 상품",
        price: int = 10_000,
        stock: int = 100,
        options: Mapping[str, int] | None = None,
        option_prices: Mapping[str, int] | None = None,
        shipping_fee: int = 3_000,
        seller_rank: int = 3,
        seller_score: float = 98.0,
        send_avg: float = 1.5,
        status: str = "판매중",
    ) -> None:
        """Add (or replace) an item; ``options`` maps option codes (``00_01``) to stock."""
        if not item_no.isdigit():
            msg = f"item_no must be digits, got {item_no!r}"
            raise ValueError(msg)
        with self._lock:
            self.items[item_no] = FakeItem(
                no=item_no,
                seller_id=seller_id,
                title=title,
                price=price,
                stock=stock,
                options=dict(options or {}),
                option_prices=dict(option_prices or {}),
                shipping_fee=shipping_fee,
                seller_rank=seller_rank,
                seller_score=seller_score,
                send_avg=send_avg,
                status=status,
            )

    def set_stock(self, item_no: str, stock: int, *, option: str | None = None) -> None:
        """Set an item's (or an option's) stock, recording SOLDOUT / RESTART changes."""
        with self._lock:
            item = self.items[item_no]
            if option is None:
                before, item.stock = item.stock, stock
                kinds = ("SOLDOUT", "RESTART")
            else:
                before, item.options[option] = item.options.get(option, 0), stock
                kinds = ("OPTSOLDOUT", "OPTRESTART")
            if before > 0 and stock <= 0:
                self._change(item, kinds[0])
            elif before <= 0 < stock:
                self._change(item, kinds[1])

    def set_price(self, item_no: str, price: int) -> None:
        """Change an item's supply price, recording an AMT change."""
        with self._lock:
            item = self.items[item_no]
            item.price = price
            self._change(item, "AMT")

    def confirm(self, order_no: str) -> None:
        """The supplier's 발주확인 (``setOrdChk``): WAITCHK -> WAITDELI."""
        with self._lock:
            order = self._order(order_no)
            if order.status_mode == "WAITCHK":
                order.status_mode = "WAITDELI"

    def invoice(self, order_no: str, *, courier: str = "DAEHAN", number: str | None = None) -> str:
        """The supplier registers a waybill (``setOrdOkDeli``) and ships: -> WAITOK."""
        with self._lock:
            order = self._order(order_no)
            if order.status_mode not in {"WAITCHK", "WAITDELI"}:
                msg = f"order {order_no} is {order.status_mode}: cannot invoice"
                raise ValueError(msg)
            order.courier = courier
            order.tracking = number or f"6{int(order.order_no):011d}"
            order.status_mode = "WAITOK"
            order.cancel_requested = False
            return order.tracking

    def complete(self, order_no: str) -> None:
        """The buyer confirms receipt: -> DONE."""
        with self._lock:
            self._order(order_no).status_mode = "DONE"

    def cancel_by_supplier(self, order_no: str, memo: str = "품절로 인한 판매취소") -> None:
        """The supplier's 판매취소 (``setOrdDeny type=sell``): -> DENYSELL, e-money refunded."""
        with self._lock:
            order = self._order(order_no)
            if order.status_mode not in {"WAITCHK", "WAITDELI"}:
                msg = f"order {order_no} is {order.status_mode}: cannot cancel"
                raise ValueError(msg)
            self._deny(order, "DENYSELL", memo, restock=False)

    def accept_cancel_request(self, order_no: str) -> None:
        """The supplier accepts our cancel request (``req``): -> DENYBUY, refunded."""
        with self._lock:
            order = self._order(order_no)
            if order.cancel_requested and order.status_mode in {"WAITCHK", "WAITDELI"}:
                self._deny(order, "DENYBUY", order.deny_memo, restock=True)

    @property
    def duplicate_orders(self) -> int:
        """Orders placed with a seller memo another order already had (money lost twice)."""
        with self._lock:
            memos = [o.memo for o in self.orders.values() if o.memo]
            return len(memos) - len(set(memos))

    def _order(self, order_no: str) -> FakeDomemeOrder:
        order = self.orders.get(order_no.removeprefix("OR"))
        if order is None:
            msg = f"no order {order_no!r}"
            raise KeyError(msg)
        return order

    def _deny(self, order: FakeDomemeOrder, mode: str, memo: str, *, restock: bool) -> None:
        order.status_mode = mode
        order.deny_date = self.clock()
        order.deny_memo = memo
        order.cancel_requested = False
        self.emoney += order.amount
        if restock:
            item = self.items[order.item_no]
            if order.option == "00":
                self.set_stock(item.no, item.stock + order.quantity)
            else:
                stock = item.options.get(order.option, 0) + order.quantity
                self.set_stock(item.no, stock, option=order.option)

    def _change(self, item: FakeItem, status: str) -> None:
        now = self.clock()
        self.changes.append(
            {
                "no": item.no,
                "title": item.title,
                "status": status,
                "seller": item.seller_id,
                "price": item.price,
                "qty": max(item.stock, 0),
                "supplyQty": max(item.stock, 0),
                "date": wire_time(now),
                "_day": now.astimezone(KST).strftime("%Y%m%d"),
            }
        )

    def _n(self, value: int) -> int | str:
        return str(value) if self.string_numbers else value
