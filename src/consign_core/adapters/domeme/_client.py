"""The Domeme (Domeggook) API client: Open API item calls and Private API order calls.

The parts: ``_session`` (the endpoint, session, rate limits, retries and wire errors),
``_item_calls`` (items and their change feed) and ``_order_calls`` (e-money and orders).
"""

from __future__ import annotations

from consign_core.adapters.domeme._item_calls import ItemCalls
from consign_core.adapters.domeme._order_calls import OrderCalls, OrderLine, deliinfo
from consign_core.adapters.domeme._session import DEFAULT_BASE_URL, RateLimiter


__all__ = ["DEFAULT_BASE_URL", "DomemeClient", "OrderLine", "RateLimiter", "deliinfo"]


class DomemeClient(OrderCalls, ItemCalls):
    """The Domeme API for one Domeggook member: items, session, e-money and orders.

    ``DomemeClient(api_key, user_id, password, *, transport=None, clock=None, ...)``:
    ``transport`` is any :class:`httpx.BaseTransport` (a :class:`httpx.MockTransport` on a
    :class:`~consign_core.testing.fake_domeme.FakeDomeme`, for instance); ``clock`` gives
    aware datetimes. The API key, password and session id never appear in a repr, a log line
    or an error. Reads are retried on transient trouble; writes (``setOrder``,
    ``setOrdDeny``) never are.
    """

    def __enter__(self) -> DomemeClient:
        return self
