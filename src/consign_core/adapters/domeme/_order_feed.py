"""The supplier-order change feed on Domeme's order list (``getOrderList`` by status).

Domeme has no feed of order changes, and ``getOrderView`` answers for one order at a time;
asking about every open order on every run would spend the call quota (about 180 a minute
and 15,000 a day) in proportion to the open orders. The order list can be filtered by status
(``st``, the Korean label) and by age (``day``), 100 rows a page, so a *sweep* lists the two
open statuses (결제완료 ``WAITCHK``, paid and not confirmed yet; 배송준비중 ``WAITDELI``,
confirmed) and compares them with what was last seen of each order it watches:

- listed with the status last seen: unchanged, no further call;
- listed as confirmed, last seen as paid: confirmed, built from the row and the seller memo
  kept since placement (one ``getOrderView`` when the memo is not known);
- not listed under either open status: it moved on (invoiced, shipped, cancelled by either
  side), or is older than the list window: one ``getOrderView`` tells which.

So a sweep costs ``ceil(open / 100)`` list calls plus about one view per order that moved on,
however many orders are open, and sweeps run at most once per ``every`` (the cursor carries
the last sweep's time, so a restart keeps the cadence). The orders watched are those placed,
looked up or viewed through the same :class:`~consign_core.adapters.domeme.DomemeSupplier`;
the engine asks about every order it takes on (and, after a restart, every open order) once,
which is how a new process learns them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone

from consign_core.adapters.domeme._client import DomemeClient
from consign_core.adapters.domeme._wire import OrderRow, OrderView
from consign_core.domain.model import SupplierOrder
from consign_core.errors import ConfigurationError, NotFoundError, RejectedError


__all__ = ["OPEN_LABELS", "OrderWatch"]

_log = logging.getLogger("consign_core.adapters.domeme")

OPEN_LABELS: Mapping[str, str] = {"WAITCHK": "결제완료", "WAITDELI": "배송준비중"}
"""The open ``statusMode`` codes and the status labels the order list is filtered by."""

_MODE_OF_LABEL = {label: mode for mode, label in OPEN_LABELS.items()}
_CURSOR_FORMAT = "%Y%m%dT%H%M%SZ"


def _cursor_time(cursor: str | None) -> datetime | None:
    if not cursor:
        return None
    try:
        return datetime.strptime(cursor, _CURSOR_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None  # a cursor of another format (or version): sweep now


def _is_delta(value: object) -> bool:
    return isinstance(value, timedelta) and value >= timedelta(0)


def _whole_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


class OrderWatch:
    """The open orders' last seen ``statusMode`` and the sweep that finds what changed.

    ``view`` turns one order's ``getOrderView`` into its current
    :class:`~consign_core.domain.model.SupplierOrder` (``None`` when it is not ours) and its
    ``statusMode``; ``from_row`` builds an order in a given ``statusMode`` from a list row
    when the seller memo is known (``None`` otherwise).
    """

    def __init__(
        self,
        client: DomemeClient,
        *,
        view: Callable[[OrderView], tuple[SupplierOrder | None, str]],
        from_row: Callable[[OrderRow, str], SupplierOrder | None],
        every: timedelta,
        days: int,
        page_size: int,
        max_pages: int,
    ) -> None:
        if not _is_delta(every):
            msg = f"feed_every must be a timedelta >= 0, got {every!r}"
            raise ConfigurationError(msg)
        for name, value, low, high in (
            ("feed_days", days, 1, 365),
            ("feed_page_size", page_size, 1, 500),
            ("feed_max_pages", max_pages, 1, 10_000),
        ):
            if not _whole_in(value, low, high):
                msg = f"{name} must be a whole number {low}..{high}, got {value!r}"
                raise ConfigurationError(msg)
        self._client = client
        self._view = view
        self._from_row = from_row
        self.every = every
        self.days = days
        self.page_size = page_size
        self.max_pages = max_pages
        self._seen: dict[str, str] = {}  # order no -> last statusMode seen (open ones only)

    def __len__(self) -> int:
        return len(self._seen)

    def note(self, order_no: str, mode: str) -> None:
        """Record an order's status as seen: watched while open, forgotten once not."""
        if mode in OPEN_LABELS:
            self._seen[order_no] = mode
        else:
            self._seen.pop(order_no, None)

    def due(self, cursor: str | None, now: datetime) -> bool:
        """A sweep is due: never swept, or the last sweep is ``every`` old."""
        last = _cursor_time(cursor)
        return last is None or now - last >= self.every or now < last

    @staticmethod
    def cursor_of(now: datetime) -> str:
        """The cursor that records a sweep at ``now``."""
        return now.astimezone(timezone.utc).strftime(_CURSOR_FORMAT)

    def sweep(self) -> list[SupplierOrder]:
        """The watched orders whose status changed since last seen, in their current state.

        What was seen is recorded only once the whole sweep succeeded, so a sweep cut short
        (a timeout, the quota) is repeated in full and loses no change.
        """
        if not self._seen:
            return []
        listed: dict[str, tuple[str, OrderRow]] = {}
        for mode, label in OPEN_LABELS.items():  # paid first: a confirmation listed later wins
            for row in self._rows(label):
                listed[row.order_no] = (
                    row.status_mode or _MODE_OF_LABEL.get(row.status, mode),
                    row,
                )
        changed: list[SupplierOrder] = []
        notes: list[tuple[str, str]] = []
        for order_no, last in list(self._seen.items()):
            entry = listed.get(order_no)
            if entry is not None and entry[0] == last:
                continue
            order = None
            if entry is not None and entry[0] == "WAITDELI" and last == "WAITCHK":
                order = self._from_row(entry[1], "WAITDELI")
                mode = "WAITDELI"
            if order is None:
                order, mode = self._read(order_no)
            notes.append((order_no, mode if order is not None else ""))  # not ours: forget
            if order is not None:
                changed.append(order)
        for order_no, mode in notes:
            self.note(order_no, mode)
        return changed

    def _rows(self, label: str) -> Iterator[OrderRow]:
        for page in range(1, self.max_pages + 1):
            listing = self._client.list_orders(
                days=self.days, status_label=label, page=page, size=self.page_size
            )
            yield from listing.orders
            if listing.pages is None or page >= listing.pages or not listing.orders:
                return
        _log.warning("domeme: order list %s has more than %d pages", label, self.max_pages)

    def _read(self, order_no: str) -> tuple[SupplierOrder | None, str]:
        """One order's view; an order Domeme no longer shows is forgotten."""
        try:
            view = self._client.get_order(order_no)
        except (RejectedError, NotFoundError) as exc:
            _log.debug("domeme: order view refused (%s); no longer watched", exc.vendor_code)
            return None, ""
        return self._view(view)
