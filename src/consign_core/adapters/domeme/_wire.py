"""Domeme wire shapes: the DTOs of each reply and the one cattrs converter that builds them.

The parts: ``_wire_parse`` (lenient scalars and lists, wire times, the converter and the
error paths), ``_wire_items`` (the Open API item replies) and ``_wire_orders`` (the Private
API replies). This module gathers their names in one place.
"""

from __future__ import annotations

from consign_core.adapters.domeme._wire_items import (
    DeliveryInfo,
    ItemBasis,
    ItemListPage,
    ItemPrice,
    ItemQty,
    ItemShipping,
    ItemSummary,
    ItemView,
    OptionStock,
    PriceTier,
    SellerInfo,
    SellerScore,
    ShippingFee,
    parse_price_tiers,
    prepare_item_view,
)
from consign_core.adapters.domeme._wire_orders import (
    AssetReply,
    CancelReply,
    ChangeFeedPage,
    ChangeRow,
    Emoney,
    LoginReply,
    OrderDelivery,
    OrderItem,
    OrderListPage,
    OrderRow,
    OrderSeller,
    OrderView,
    PlacedOrder,
    PlaceOrderReply,
)
from consign_core.adapters.domeme._wire_parse import (
    KST,
    as_rows,
    make_domeme_converter,
    parse_wire_datetime,
    structure_reply,
)


__all__ = [
    "KST",
    "AssetReply",
    "CancelReply",
    "ChangeFeedPage",
    "ChangeRow",
    "DeliveryInfo",
    "Emoney",
    "ItemBasis",
    "ItemListPage",
    "ItemPrice",
    "ItemQty",
    "ItemShipping",
    "ItemSummary",
    "ItemView",
    "LoginReply",
    "OptionStock",
    "OrderDelivery",
    "OrderItem",
    "OrderListPage",
    "OrderRow",
    "OrderSeller",
    "OrderView",
    "PlaceOrderReply",
    "PlacedOrder",
    "PriceTier",
    "SellerInfo",
    "SellerScore",
    "ShippingFee",
    "as_rows",
    "make_domeme_converter",
    "parse_price_tiers",
    "parse_wire_datetime",
    "prepare_item_view",
    "structure_reply",
]
