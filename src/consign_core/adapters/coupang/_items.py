"""The product item calls of ``CoupangClient``: stop or resume an item's sales, set its stock.

Coupang lists a seller's product options as *vendor items* (``vendorItemId``, the SKU of an
order line). Three calls of the marketplace product API change one of them, each a ``PUT``
without a body, answered ``{"code": "SUCCESS", "message": ..., "data": null}``:

- ``/v2/providers/seller_api/apis/api/v1/marketplace/vendor-items/{vendorItemId}/sales/stop``
- ``.../vendor-items/{vendorItemId}/sales/resume``
- ``.../vendor-items/{vendorItemId}/quantities/{quantity}``

Setting the state an item already has succeeds, so these calls are retried like reads (a
timeout or a 5xx too): sending one twice is harmless. An unknown, deleted or unapproved item
is refused with HTTP 400 (``vendoritemid ... not found``): that is a
:class:`~consign_core.errors.NotFoundError` when Coupang says the item is not found, a
:class:`~consign_core.errors.RejectedError` otherwise.
"""

from __future__ import annotations

from consign_core.adapters.coupang._transport import ADAPTER, ClientCore, Reply, box_id
from consign_core.errors import NotFoundError, RejectedError, ValidationError


__all__ = ["SELLER_API", "ItemCalls"]

SELLER_API = "/v2/providers/seller_api/apis/api/v1/marketplace"
"""The root of Coupang's marketplace product API (not under ``/v2/providers/openapi``)."""
_MOST_QUANTITY = 99_999  # what WING's stock field takes; more is refused as a typo


class ItemCalls(ClientCore):
    """Per-item sales state and stock (the product API's vendor items)."""

    def stop_sales(self, vendor_item_id: int) -> None:
        """Stop selling the item (판매중지): buyers can no longer order it."""
        self._item_call(vendor_item_id, "sales/stop")

    def resume_sales(self, vendor_item_id: int) -> None:
        """Resume selling the item (판매재개)."""
        self._item_call(vendor_item_id, "sales/resume")

    def set_quantity(self, vendor_item_id: int, quantity: int) -> None:
        """Set the item's sellable stock (재고수량); 0 shows it sold out (품절)."""
        value: object = quantity
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 <= quantity <= _MOST_QUANTITY
        ):
            msg = f"quantity must be an integer from 0 to {_MOST_QUANTITY}, got {quantity!r}"
            raise ValidationError(msg, field="quantity", value=quantity)
        self._item_call(vendor_item_id, f"quantities/{quantity}")

    def _item_call(self, vendor_item_id: int, tail: str) -> Reply:
        item = box_id(vendor_item_id, "vendor_item_id")
        path = f"{SELLER_API}/vendor-items/{item}/{tail}"
        try:
            return self._call("PUT", path, retry="read")
        except RejectedError as exc:
            if "not found" not in str(exc).lower():
                raise
            msg = f"PUT .../vendor-items/{item}/{tail}: Coupang has no such vendor item"
            raise NotFoundError(
                msg,
                adapter=ADAPTER,
                status=exc.status,
                vendor_code=exc.vendor_code,
                request_id=exc.request_id,
            ) from None
