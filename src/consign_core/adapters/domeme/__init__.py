"""The Domeme (도매매, Domeggook's dropshipping market) adapter: needs the ``http`` extra.

- :class:`DomemeClient`: the Open API (items, stock, prices, the supplier's signals) and the
  Private API (session, e-money, ``setOrder``, order list and view, ``setOrdDeny``, the
  ``getAllSupplyChk`` change feed), with every wire quirk handled in one place.
- :class:`DomemeSupplier`: the engine's :class:`~consign_core.engine.ports.SupplierPort`
  on the client; never orders (pays) twice for one idempotency key. It is also a
  :class:`~consign_core.engine.ports.SupplierOrderFeed`: the order list swept by status,
  so polling costs a few list calls however many orders are open.
- :data:`DOMEME_COURIERS`: Domeme courier codes to the canonical
  :class:`~consign_core.domain.model.Courier` and back.
- :data:`DOMEME_ERROR_CODES`: every known error code and what it does.
"""

from __future__ import annotations

from consign_core._exports import publish
from consign_core.adapters.domeme._client import (
    DEFAULT_BASE_URL,
    DomemeClient,
    OrderLine,
    RateLimiter,
    deliinfo,
)
from consign_core.adapters.domeme._couriers import (
    DOMEME_COURIERS,
    courier_from_domeme,
    courier_to_domeme,
)
from consign_core.adapters.domeme._errors import (
    DOMEME_ERROR_CODES,
    VENDOR_CODE_EMONEY_SHORT,
    ErrorKind,
    WireError,
    classify,
    to_error,
)
from consign_core.adapters.domeme._supplier import (
    DomemeSupplier,
    memo_tag,
    parse_memo_tag,
    signals_of,
)
from consign_core.adapters.domeme._wire import (
    AssetReply,
    ChangeFeedPage,
    ChangeRow,
    ItemListPage,
    ItemSummary,
    ItemView,
    OptionStock,
    OrderListPage,
    OrderRow,
    OrderView,
    PlacedOrder,
    PlaceOrderReply,
    PriceTier,
    make_domeme_converter,
    parse_price_tiers,
)


__all__ = [
    "DEFAULT_BASE_URL",
    "DOMEME_COURIERS",
    "DOMEME_ERROR_CODES",
    "VENDOR_CODE_EMONEY_SHORT",
    "AssetReply",
    "ChangeFeedPage",
    "ChangeRow",
    "DomemeClient",
    "DomemeSupplier",
    "ErrorKind",
    "ItemListPage",
    "ItemSummary",
    "ItemView",
    "OptionStock",
    "OrderLine",
    "OrderListPage",
    "OrderRow",
    "OrderView",
    "PlaceOrderReply",
    "PlacedOrder",
    "PriceTier",
    "RateLimiter",
    "WireError",
    "classify",
    "courier_from_domeme",
    "courier_to_domeme",
    "deliinfo",
    "make_domeme_converter",
    "memo_tag",
    "parse_memo_tag",
    "parse_price_tiers",
    "signals_of",
    "to_error",
]

publish(__name__, __all__)
