"""``DomemeSupplier``: the engine's :class:`~consign_core.engine.ports.SupplierPort` on Domeme.

A Domeme order is paid the moment ``setOrder`` succeeds, so :meth:`DomemeSupplier.place_order`
never sends it twice: the idempotency key travels in the order's seller memo, and after an
unknown outcome (a timeout, a 5xx) the order is looked up by that key through the order list
before the error is passed on. The engine does the same before any new attempt.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from consign_core.adapters.domeme._client import DomemeClient, OrderLine
from consign_core.adapters.domeme._couriers import courier_from_domeme
from consign_core.adapters.domeme._errors import ADAPTER
from consign_core.adapters.domeme._order_feed import OrderWatch
from consign_core.adapters.domeme._wire import (
    KST,
    ChangeRow,
    ItemView,
    OrderItem,
    OrderRow,
    OrderView,
    parse_wire_datetime,
)
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    OrderRef,
    Recipient,
    SupplierItem,
    SupplierOrder,
    SupplierOrderStatus,
    SupplierSignals,
    Tracking,
)
from consign_core.domain.workflow import SupplierCancelOutcome
from consign_core.engine.ports import (
    VENDOR_CODE_STOCK_OUT,
    ChangePage,
    ItemChange,
    PlaceOrderRequest,
    SupplierOrderPage,
)
from consign_core.errors import (
    AdapterError,
    ConfigurationError,
    NotFoundError,
    RejectedError,
    TransientError,
    UnexpectedResponseError,
    ValidationError,
)


__all__ = ["DomemeSupplier", "memo_tag", "parse_memo_tag", "signals_of"]

_log = logging.getLogger("consign_core.adapters.domeme")

_TAG = re.compile(r"\[CC (?P<key>[^\s\]]+) (?P<supplier>[^\s\]]+)\]")

_CONFIRMED = frozenset({"WAITDELI"})
_SHIPPED = frozenset({"WAITOK", "WAITRCPT", "WAITSERV", "DONE"})
_CANCELLED = frozenset({"DENYSELL", "DENYBUY"})
_LABELS = {
    "결제완료": "WAITCHK",
    "배송준비중": "WAITDELI",
    "배송중": "WAITOK",
    "수령확인대기": "WAITOK",
    "구매종료": "DONE",
    "판매종료": "DONE",
    "구매취소": "DENYBUY",
    "판매취소": "DENYSELL",
}


def memo_tag(idempotency_key: str, supplier_id: str) -> str:
    """The seller-memo tag that carries an order's idempotency key and supplier."""
    for name, value in (("idempotency_key", idempotency_key), ("supplier_id", supplier_id)):
        if not value or any(c.isspace() or c in "[]|" for c in value):
            msg = f"{name} must be non-empty without spaces, '[', ']' or '|', got {value!r}"
            raise ValidationError(msg, field=name, value=value)
    return f"[CC {idempotency_key} {supplier_id}]"


def parse_memo_tag(memo: str) -> tuple[str, str] | None:
    """``(idempotency_key, supplier_id)`` from a seller memo, or ``None``."""
    match = _TAG.search(memo or "")
    return None if match is None else (match["key"], match["supplier"])


def _ref_of(key: str) -> OrderRef | None:
    """The market order of a key ``market:order_id:attempt``."""
    head, _, attempt = key.rpartition(":")
    market, _, order_id = head.partition(":")
    if not (market and order_id and attempt):
        return None
    return OrderRef(market=market, order_id=order_id)


def signals_of(item: ItemView) -> SupplierSignals:
    """The supplier's platform signals (rank, score, dispatch days) from an item view."""
    score = item.seller.score.avg if item.seller.score is not None else None
    rank = item.seller.rank if item.seller.rank is not None and item.seller.rank >= 0 else None
    return SupplierSignals(
        seller_rank=rank, seller_score=score, avg_dispatch_days=item.deli.send_avg
    )


def _mode_of(view: OrderView) -> str:
    """The view's ``statusMode`` (from its label when the code is absent)."""
    return view.status_mode or _LABELS.get(view.status, "WAITCHK")


def _cancel_reason(memo: str) -> CancelReason:
    if re.search(r"품절|재고|sold ?out|stock", memo, re.I):
        return CancelReason.STOCK_OUT
    if re.search(r"가격|단가|price", memo, re.I):
        return CancelReason.PRICE_ERROR
    if re.search(r"지연|배송불가|delay", memo, re.I):
        return CancelReason.DELIVERY_DELAY
    return CancelReason.OTHER


class DomemeSupplier:
    """Domeme as the engine's supplier port, on a :class:`DomemeClient`.

    The buyer's delivery details and the option code come with the request
    (:attr:`~consign_core.engine.ports.PlaceOrderRequest.recipient` and ``option``: the engine
    fills them from the market order and the SKU's source). ``recipient_for`` and
    ``option_for`` are fallbacks for a request without them (a market port that gives no
    delivery details, options kept outside the engine's sources); a request without delivery
    details and no fallback is refused (``RejectedError``, ``vendor_code="NO_RECIPIENT"``).
    ``shop_name`` is the ``deliinfo`` shop name (쇼핑몰명).

    It is also a :class:`~consign_core.engine.ports.SupplierOrderFeed`:
    :meth:`list_changed_orders` sweeps the order list by status at most once per
    ``feed_every`` (``ceil(open / feed_page_size)`` list calls and one ``getOrderView`` per
    order that moved on), the last ``feed_days`` days of orders, at most ``feed_max_pages``
    pages per status. :meth:`list_changes` (the item change feed) reads Domeme at most once
    per ``changes_every`` (pages of one read follow at once); in between it answers an empty
    page without a call.
    """

    def __init__(
        self,
        client: DomemeClient,
        *,
        shop_name: str,
        recipient_for: Callable[[PlaceOrderRequest], Recipient | None] | None = None,
        option_for: Callable[[PlaceOrderRequest], str | None] | None = None,
        check_stock_first: bool = True,
        find_days: int = 14,
        find_pages: int = 5,
        platform: str = "domeme",
        feed_every: timedelta = timedelta(minutes=5),
        feed_days: int = 30,
        feed_page_size: int = 100,
        feed_max_pages: int = 100,
        changes_every: timedelta = timedelta(minutes=5),
    ) -> None:
        every: object = changes_every  # callers without type checks pass anything
        if not isinstance(every, timedelta) or every < timedelta(0):
            msg = f"changes_every must be a timedelta >= 0, got {changes_every!r}"
            raise ConfigurationError(msg)
        self.client = client
        self.changes_every = changes_every
        self._changes_read_at: datetime | None = None  # the last read that had no more pages
        self.shop_name = shop_name
        self._recipient_for = recipient_for
        self._option_for = option_for
        self.check_stock_first = check_stock_first
        self.find_days = find_days
        self.find_pages = find_pages
        self._platform = platform
        self._memos: dict[str, str] = {}
        self._placed: dict[str, str] = {}
        self._feed_seen: dict[str, set[tuple[str, str, str, str]]] = {}
        self._suppliers: dict[str, str] = {}
        self._watch = OrderWatch(
            client,
            view=self._view_of,
            from_row=self._from_row,
            every=feed_every,
            days=feed_days,
            page_size=feed_page_size,
            max_pages=feed_max_pages,
        )

    def __repr__(self) -> str:
        return f"DomemeSupplier(client={self.client!r})"

    @property
    def platform(self) -> str:
        """``"domeme"``."""
        return self._platform

    # ----------------------------------------------------------------------------------
    # Orders
    # ----------------------------------------------------------------------------------

    def place_order(self, request: PlaceOrderRequest) -> SupplierOrder:
        """Order and pay; a sold-out refusal is ``RejectedError(vendor_code=STOCK_OUT)``.

        After a timeout the order is looked up by its key; found, it is returned; not found,
        the :class:`~consign_core.errors.TransientError` is passed on (never re-sent here).
        """
        recipient = self._recipient(request)
        option = self._option(request)
        if self.check_stock_first:
            self._check_stock(request, option)
        memo = memo_tag(request.idempotency_key, request.supplier_id)
        try:
            reply = self.client.place_order(
                item_no=request.item_id,
                lines=[OrderLine(option=option, quantity=request.quantity)],
                recipient=recipient,
                shop_name=self.shop_name,
                memo=memo,
            )
        except (TransientError, UnexpectedResponseError):
            found = self._find_after_unknown(request.idempotency_key)
            if found is not None:
                return found
            raise
        except RejectedError as exc:
            if exc.vendor_code != VENDOR_CODE_STOCK_OUT and exc.vendor_code in {
                "ITEM_ERROR",
                "UNKNOWN",
            }:
                self._check_stock(request, option, cause=exc)
            raise
        order_no = reply.orders[0].order_no
        self._suppliers[request.item_id] = request.supplier_id
        self._placed[request.idempotency_key] = order_no
        self._memos[order_no] = memo
        self._watch.note(order_no, "WAITCHK")
        return SupplierOrder(
            supplier_id=request.supplier_id,
            supplier_order_id=order_no,
            order_ref=request.order_ref,
            item_id=request.item_id,
            quantity=request.quantity,
            placed_at=self.client.clock(),
        )

    def _find_after_unknown(self, key: str) -> SupplierOrder | None:
        try:
            return self.find_order(key)
        except AdapterError:
            _log.warning("domeme: could not look the order up after an unknown outcome")
            return None

    def _recipient(self, request: PlaceOrderRequest) -> Recipient:
        recipient = request.recipient
        if recipient is None and self._recipient_for is not None:
            recipient = self._recipient_for(request)
        if not isinstance(recipient, Recipient):
            msg = (
                f"order {request.order_ref} has no delivery details: the market order gave "
                "none (give DomemeSupplier a recipient_for callable to look them up)"
            )
            raise RejectedError(msg, adapter=ADAPTER, vendor_code="NO_RECIPIENT")
        return recipient

    def _option(self, request: PlaceOrderRequest) -> str | None:
        option = request.option
        if option is None and self._option_for is not None:
            option = self._option_for(request)
        return option if isinstance(option, str) else None

    def _check_stock(
        self, request: PlaceOrderRequest, option: str | None, cause: AdapterError | None = None
    ) -> None:
        try:
            item = self.client.get_item(request.item_id)
        except AdapterError:
            if cause is not None:
                raise cause from None
            raise
        stock = item.stock_of(option)
        short = not item.on_sale or (stock is not None and stock < request.quantity)
        if short:
            what = "not on sale" if not item.on_sale else f"stock {stock} < {request.quantity}"
            msg = f"setOrder not sent for item {request.item_id}: sold out ({what})"
            if cause is not None:
                msg = f"{cause}; the item is sold out ({what})"
            raise RejectedError(msg, adapter=ADAPTER, vendor_code=VENDOR_CODE_STOCK_OUT) from None

    def find_order(self, idempotency_key: str) -> SupplierOrder | None:
        """The order whose seller memo holds ``idempotency_key``, through the order list of
        the last ``find_days`` days (each candidate's memo read once, then remembered)."""
        known = self._placed.get(idempotency_key)
        if known is not None:
            return self._found(self.client.get_order(known))
        for page in range(1, self.find_pages + 1):
            listing = self.client.list_orders(days=self.find_days, page=page)
            for row in listing.orders:
                memo = row.order_memo
                if memo is None:
                    memo = self._memos.get(row.order_no)
                if memo is None:
                    view = self.client.get_order(row.order_no)
                    memo = self._memos[row.order_no] = view.order_memo
                    tag = parse_memo_tag(memo)
                    if tag is not None and tag[0] == idempotency_key:
                        self._placed[idempotency_key] = row.order_no
                        return self._found(view)
                    continue
                tag = parse_memo_tag(memo)
                if tag is not None and tag[0] == idempotency_key:
                    self._placed[idempotency_key] = row.order_no
                    return self._found(self.client.get_order(row.order_no))
            if listing.pages is None or page >= listing.pages or not listing.orders:
                break
        return None

    def _found(self, view: OrderView) -> SupplierOrder:
        """The order placed with a key: never ``None`` (that would invite paying twice)."""
        order, _ = self._view_state(view)
        if order is None:
            msg = f"getOrderView: order {view.order_no} has the key but cannot be read"
            raise UnexpectedResponseError(msg, adapter=ADAPTER)
        return order

    def get_orders(self, supplier_order_ids: Sequence[str]) -> Sequence[SupplierOrder]:
        """Each order's current state (one ``getOrderView`` each); unknown ids left out."""
        orders: list[SupplierOrder] = []
        for order_no in supplier_order_ids:
            try:
                view = self.client.get_order(order_no)
            except (RejectedError, NotFoundError) as exc:
                _log.debug("domeme: order view refused (%s); left out", exc.vendor_code)
                continue
            order, _ = self._view_state(view)
            if order is not None:
                orders.append(order)
        return orders

    def list_changed_orders(self, cursor: str | None) -> SupplierOrderPage:
        """The orders whose status changed since last seen, each in its current state
        (:class:`~consign_core.engine.ports.SupplierOrderFeed`).

        A sweep of the order list by status (``getOrderList st=결제완료`` and ``st=배송준비중``,
        then one ``getOrderView`` per watched order listed under neither) runs when the last
        one, whose time the cursor carries, is ``feed_every`` old; until then the page is
        empty and costs no call. The orders watched are those this supplier placed, found or
        was asked about.
        """
        now = self.client.clock()
        if not self._watch.due(cursor, now):
            return SupplierOrderPage(orders=(), cursor=cursor, has_more=False)
        orders = self._watch.sweep()
        return SupplierOrderPage(orders=tuple(orders), cursor=self._watch.cursor_of(now))

    def _view_of(self, view: OrderView) -> tuple[SupplierOrder | None, str]:
        """The order a view shows (``None``: not ours) and its ``statusMode``."""
        return self._to_order(view), _mode_of(view)

    def _view_state(self, view: OrderView) -> tuple[SupplierOrder | None, str]:
        """:meth:`_view_of`, and the order is watched while open."""
        order, mode = self._view_of(view)
        if order is not None:
            self._watch.note(view.order_no, mode)
        return order, mode

    def _from_row(self, row: OrderRow, mode: str) -> SupplierOrder | None:
        """An order in ``mode`` from its list row, when its seller memo is known."""
        memo = row.order_memo or self._memos.get(row.order_no)
        if not memo:
            return None
        view = OrderView(
            order_no=row.order_no,
            status_mode=mode,
            order_memo=memo,
            order_qty=row.order_qty,
            date=row.date,
            item=OrderItem(no=row.item_no),
        )
        return self._to_order(view)

    def _to_order(self, view: OrderView) -> SupplierOrder | None:
        try:
            return self._build_order(view)
        except ValidationError:
            msg = "getOrderView: unexpected reply: the order cannot be read @ $.domeggook.items"
            raise UnexpectedResponseError(msg, adapter=ADAPTER) from None

    def _build_order(self, view: OrderView) -> SupplierOrder | None:
        memo = view.order_memo or self._memos.get(view.order_no, "")
        tag = parse_memo_tag(memo)
        if tag is None:
            _log.debug("domeme: order %s carries no memo tag; left out", view.order_no)
            return None
        key, supplier_id = tag
        ref = _ref_of(key)
        if ref is None or not view.order_qty or view.order_qty < 1:
            _log.debug("domeme: order %s has an unreadable tag or quantity", view.order_no)
            return None
        now = self.client.clock()
        placed = parse_wire_datetime(view.date) or now
        mode = _mode_of(view)
        tracking = None
        if view.delivery.code and view.delivery.company:
            courier = courier_from_domeme(view.delivery.company)
            if courier is None:
                _log.warning(
                    "domeme: order %s has a waybill with courier code %r, which has no "
                    "canonical courier; not reported as invoiced",
                    view.order_no,
                    view.delivery.company,
                )
            else:
                tracking = Tracking(courier=courier, number=view.delivery.code)
        status = SupplierOrderStatus.PLACED
        cancellation = None
        if mode in _CANCELLED:
            status = SupplierOrderStatus.CANCELLED
            tracking = None
            by_supplier = mode == "DENYSELL"
            cancellation = Cancellation(
                fault=CancelFault.SELLER if by_supplier else CancelFault.BUYER,
                reason=_cancel_reason(view.deny_memo) if by_supplier else CancelReason.OTHER,
                at=parse_wire_datetime(view.deny_date) or now,
                note=view.deny_memo,
            )
        elif tracking is not None:
            status = SupplierOrderStatus.INVOICED
        elif mode in _CONFIRMED or mode in _SHIPPED:
            status = SupplierOrderStatus.CONFIRMED
        return SupplierOrder(
            supplier_id=supplier_id,
            supplier_order_id=view.order_no,
            order_ref=ref,
            item_id=view.item.no or "unknown",
            quantity=view.order_qty,
            placed_at=placed,
            status=status,
            tracking=tracking,
            cancellation=cancellation,
        )

    def cancel_order(self, supplier_order_id: str, memo: str) -> SupplierCancelOutcome:
        """``setOrdDeny type=buy``: cancelled, requested (the supplier must accept), or
        refused (already shipped)."""
        try:
            result = self.client.cancel_order(supplier_order_id, memo)
        except RejectedError:
            view = self.client.get_order(supplier_order_id)
            mode = view.status_mode or _LABELS.get(view.status, "")
            if mode in _CANCELLED:
                return SupplierCancelOutcome.CANCELLED
            if mode in _SHIPPED or view.delivery.code:
                return SupplierCancelOutcome.REFUSED
            raise
        if result == "req":
            return SupplierCancelOutcome.REQUESTED
        return SupplierCancelOutcome.CANCELLED

    # ----------------------------------------------------------------------------------
    # Items
    # ----------------------------------------------------------------------------------

    def list_changes(self, cursor: str | None) -> ChangePage:
        """``getAllSupplyChk`` by day: cursor ``YYYYMMDD:page``; rows already returned are
        not returned again. At most one read per ``changes_every``: until then the page is
        empty, keeps the cursor and costs no call."""
        last = self._changes_read_at
        if cursor and last is not None:
            since = self.client.clock() - last
            if timedelta(0) <= since < self.changes_every:
                return ChangePage(changes=(), cursor=cursor, has_more=False)
        today = self.client.clock().astimezone(KST).strftime("%Y%m%d")
        day, page = today, 1
        if cursor:
            day, _, page_text = cursor.partition(":")
            page = int(page_text) if page_text.isdigit() and int(page_text) > 0 else 1
            if not (len(day) == 8 and day.isdigit() and day <= today):
                day, page = today, 1
        feed = self.client.list_changes(date=day, page=page)
        for old in [d for d in self._feed_seen if d < day]:
            del self._feed_seen[old]
        seen_today = self._feed_seen.setdefault(day, set())
        now = self.client.clock()
        changes = [
            change
            for row in feed.changes
            if (change := self._to_change(row, seen_today, now)) is not None
        ]
        more = feed.pages is not None and page < feed.pages
        if more:
            next_cursor = f"{day}:{page + 1}"
        elif day < today:
            next_day = datetime.strptime(day, "%Y%m%d").replace(tzinfo=KST) + timedelta(days=1)
            next_cursor, more = f"{next_day:%Y%m%d}:1", True
        else:
            next_cursor = f"{day}:{page}"
        self._changes_read_at = None if more else now
        return ChangePage(changes=tuple(changes), cursor=next_cursor, has_more=more)

    def _to_change(
        self, row: ChangeRow, seen: set[tuple[str, str, str, str]], now: datetime
    ) -> ItemChange | None:
        key = (row.no, row.status, row.date, str(row.supply_qty or row.qty or row.price))
        supplier_id = row.seller or self._suppliers.get(row.no)
        if key in seen or not supplier_id:
            return None
        seen.add(key)
        stock = row.supply_qty if row.supply_qty is not None else row.qty
        if row.status in {"SOLDOUT", "CLOSE", "DEL"}:
            stock = 0
        elif row.status not in {"RESTART", "OPEN"}:
            stock = None  # option-level changes: the item's own stock is not what changed
        cost = row.price if row.status in {"AMT", "RESTART", "OPEN"} else None
        if stock is None and cost is None:
            return None
        try:
            return ItemChange(
                supplier_id=supplier_id,
                item_id=row.no,
                at=parse_wire_datetime(row.date) or now,
                stock=max(stock, 0) if stock is not None else None,
                unit_cost=cost if cost is None or cost >= 0 else None,
            )
        except ValidationError:
            msg = "getAllSupplyChk: unexpected reply: a change cannot be read @ $.domeggook.items"
            raise UnexpectedResponseError(msg, adapter=ADAPTER) from None

    def get_stock(self, supplier_id: str, item_id: str) -> SupplierItem:
        """One item's stock (``qty.inventory``) and unit cost (``price.supply``)."""
        self._suppliers[item_id] = supplier_id
        item = self.client.get_item(item_id)
        stock = item.qty.inventory if item.on_sale else 0
        return SupplierItem(
            supplier_id=supplier_id,
            item_id=item_id,
            stock=max(stock, 0) if stock is not None else None,
            unit_cost=item.price.supply if (item.price.supply or 0) >= 0 else None,
        )

    def get_signals(self, item_id: str) -> SupplierSignals:
        """The item's supplier's platform signals (rank, score, dispatch days)."""
        return signals_of(self.client.get_item(item_id))
