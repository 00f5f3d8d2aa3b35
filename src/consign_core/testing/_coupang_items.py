"""FakeCoupang's vendor items: the sales state and stock of each listed option, the product
API calls that change them (stop, resume, quantity) and a buyer who sees the listing.

Like the rest of the fake it shares no code with the adapter. A ``PUT`` to
``/v2/providers/seller_api/apis/api/v1/marketplace/vendor-items/{vendorItemId}/...`` answers
``{"code": "SUCCESS", "message": ..., "data": null}``; an unknown item is refused with HTTP 400
``... [vendoritemid {id} not found]`` as Coupang's error table says.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import attrs

from consign_core.testing._coupang_model import Reply, error


__all__ = ["ITEM_ROUTE", "ItemBook", "VendorItem"]

ITEM_ROUTE = re.compile(r"/v2/providers/seller_api/apis/api/v1/marketplace/vendor-items/(.+)")
_MOST_QUANTITY = 99_999


@attrs.define
class VendorItem:
    """One listed option: on sale or stopped, and its sellable stock (``None``: not tracked)."""

    vendor_item_id: int
    on_sale: bool = True
    quantity: int | None = None


class ItemBook:
    """The vendor items of :class:`~consign_core.testing.FakeCoupang` and their calls."""

    _lock: threading.RLock
    _vendor_items: dict[int, VendorItem]
    refused_orders: int

    # --- seeding and inspection (FakeCoupang's public side) --------------------------------

    def add_vendor_item(
        self, vendor_item_id: int, *, on_sale: bool = True, quantity: int | None = None
    ) -> None:
        """List an option (or reset it): on sale or not, with a stock (``None``: untracked)."""
        with self._lock:
            self._vendor_items[vendor_item_id] = VendorItem(
                vendor_item_id=vendor_item_id, on_sale=on_sale, quantity=quantity
            )

    def vendor_item(self, vendor_item_id: int) -> VendorItem:
        """A copy of the option's state (``KeyError`` for an option never listed)."""
        with self._lock:
            return attrs.evolve(self._vendor_items[vendor_item_id])

    def can_buy(self, vendor_item_id: int, quantity: int = 1) -> bool:
        """A buyer can order ``quantity`` of the option now (listed, on sale, in stock)."""
        with self._lock:
            item = self._vendor_items.get(vendor_item_id)
            return (
                item is not None
                and item.on_sale
                and (item.quantity is None or item.quantity >= quantity)
            )

    def _take_stock(self, vendor_item_id: int, quantity: int) -> bool:
        """A buyer orders: the stock goes down; ``False`` (nothing changes) if they cannot."""
        with self._lock:
            if not self.can_buy(vendor_item_id, quantity):
                self.refused_orders += 1
                return False
            item = self._vendor_items[vendor_item_id]
            if item.quantity is not None:
                item.quantity -= quantity
            return True

    def _known_items(self, vendor_item_ids: list[int]) -> None:
        """A seeded sheet's options are listed (on sale) if they were not yet."""
        for vendor_item_id in vendor_item_ids:
            self._vendor_items.setdefault(vendor_item_id, VendorItem(vendor_item_id))

    # --- the product API ---------------------------------------------------------------------

    def _item_route(self, method: str, tail: str) -> Reply:
        routes: list[tuple[str, Callable[[re.Match[str]], Reply]]] = [
            (r"(\d+)/sales/stop", lambda m: self._sales(int(m[1]), on_sale=False)),
            (r"(\d+)/sales/resume", lambda m: self._sales(int(m[1]), on_sale=True)),
            (r"(\d+)/quantities/(-?\d+)", lambda m: self._quantity(int(m[1]), int(m[2]))),
        ]
        for pattern, handler in routes:
            found = re.fullmatch(pattern, tail)
            if found is not None:
                if method != "PUT":
                    raise error(405, f"Method {method} is not allowed.")
                return handler(found)
        raise error(404, "Not Found")

    def _item(self, vendor_item_id: int, what: str) -> VendorItem:
        item = self._vendor_items.get(vendor_item_id)
        if item is None:
            msg = f"Failed to change the {what}. [vendoritemid {vendor_item_id} not found]"
            raise error(400, msg)
        return item

    def _sales(self, vendor_item_id: int, *, on_sale: bool) -> Reply:
        item = self._item(vendor_item_id, "sales status")
        item.on_sale = on_sale  # the same state again succeeds, as on Coupang
        message = "판매가 재개되었습니다." if on_sale else "판매 중지 처리되었습니다."
        return _success(message)

    def _quantity(self, vendor_item_id: int, quantity: int) -> Reply:
        if not 0 <= quantity <= _MOST_QUANTITY:
            raise error(400, "Invalid inventory quantity.")
        item = self._item(vendor_item_id, "inventory")
        item.quantity = quantity
        return _success("재고 변경을 완료했습니다.")


def _success(message: str) -> Reply:
    body: dict[str, Any] = {"code": "SUCCESS", "message": message, "data": None}
    return Reply(200, body)
