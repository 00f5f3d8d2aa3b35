"""The client's own value types: pages, per-box results, invoices, cancel results."""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from consign_core.adapters.coupang._couriers import courier_to_coupang, validate_waybill
from consign_core.adapters.coupang._wire import OrderSheet, ReturnRequest
from consign_core.domain._validators import fail, instance_of, int_at_least, optional, string
from consign_core.domain.model import Courier


__all__ = [
    "CancelResult",
    "Invoice",
    "OrderSheetPage",
    "ReturnRequestPage",
    "ShipmentBoxResult",
]


@attrs.frozen(kw_only=True)
class OrderSheetPage:
    """One page of order sheets; ``next_token`` is ``None`` on the last page."""

    items: tuple[OrderSheet, ...]
    """The order sheets of this page."""
    next_token: str | None
    """Pass it back as ``next_token=`` for the next page; ``None`` when there is none."""


@attrs.frozen(kw_only=True)
class ReturnRequestPage:
    """One page of return and cancel requests; ``next_token`` is ``None`` on the last page."""

    items: tuple[ReturnRequest, ...]
    """The requests of this page."""
    next_token: str | None
    """Pass it back as ``next_token=`` for the next page; ``None`` when there is none."""


@attrs.frozen(kw_only=True)
class ShipmentBoxResult:
    """What Coupang answered for one shipment box of an acknowledgement or invoice call."""

    shipment_box_id: int
    """The box."""
    succeeded: bool
    """Whether Coupang applied the change to this box."""
    retry_required: bool
    """Coupang's ``retryRequired``: the failure may pass on a later try."""
    result_code: str
    """Coupang's ``resultCode`` (``OK``, ``NOT_FOUND_SHIPMENT_BOX``, ``INVALID_STATUS``, ...);
    ``NO_RESULT`` when the answer said nothing about the box."""
    message: str
    """Coupang's ``resultMessage``."""


@attrs.frozen(kw_only=True)
class CancelResult:
    """The answer to a seller cancel: which vendor items Coupang did not cancel."""

    order_id: int
    """The order."""
    failed_vendor_item_ids: tuple[int, ...]
    """Items Coupang refused to cancel (empty when all were cancelled)."""

    @property
    def succeeded(self) -> bool:
        """Whether every requested item was cancelled."""
        return not self.failed_vendor_item_ids


def _positive_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    int_at_least(1)(instance, attribute, value)


def _courier(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, Courier):
        courier_to_coupang(value)
    elif not isinstance(value, str) or not value:
        fail(instance, attribute, value, "a Courier or a Coupang deliveryCompanyCode")


@attrs.frozen(kw_only=True)
class Invoice:
    """One invoice line (``orderSheetInvoiceApplyDto``): a waybill for one vendor item of a box.

    A box with several items takes one line per item. ``courier`` is a :class:`Courier` or a
    Coupang code such as ``"DIRECT"``; the waybill is checked against Coupang's format here, so
    a wrong one fails before any call.
    """

    shipment_box_id: int = attrs.field(validator=_positive_id)
    """The box."""
    order_id: int = attrs.field(validator=_positive_id)
    """The order."""
    vendor_item_id: int = attrs.field(validator=_positive_id)
    """The item."""
    courier: Courier | str = attrs.field(validator=_courier)
    """The courier."""
    invoice_number: str = attrs.field(validator=string)
    """The waybill number, digits only."""
    split_shipping: bool = attrs.field(default=False, validator=instance_of(bool))
    """Whether the box ships in parts."""
    pre_split_shipped: bool = attrs.field(default=False, validator=instance_of(bool))
    """Whether part of the order already shipped separately."""
    estimated_shipping_date: date | None = attrs.field(
        default=None, validator=optional(instance_of(date))
    )
    """For split shipping without a waybill yet: the planned ship date."""

    def __attrs_post_init__(self) -> None:
        if not (self.split_shipping and self.estimated_shipping_date and not self.invoice_number):
            validate_waybill(self.delivery_company_code, self.invoice_number)

    @property
    def delivery_company_code(self) -> str:
        """Coupang's code for the courier."""
        if isinstance(self.courier, Courier):
            return courier_to_coupang(self.courier)
        return self.courier

    def to_wire(self) -> dict[str, object]:
        """The DTO as Coupang takes it."""
        return {
            "shipmentBoxId": self.shipment_box_id,
            "orderId": self.order_id,
            "vendorItemId": self.vendor_item_id,
            "deliveryCompanyCode": self.delivery_company_code,
            "invoiceNumber": self.invoice_number,
            "splitShipping": self.split_shipping,
            "preSplitShipped": self.pre_split_shipped,
            "estimatedShippingDate": (
                self.estimated_shipping_date.isoformat() if self.estimated_shipping_date else ""
            ),
        }
