"""Compact JSON encodings of order states and outbox commands for the on-disk store.

An order state is a JSON array in a fixed field order, tagged with a codec version, so that a
row costs a few hundred bytes; commands go through the domain converter
(:func:`consign_core.domain.serialization.make_converter`) with a ``kind`` tag.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from json.encoder import encode_basestring as _quote
from typing import Any, cast

from consign_core.domain.events import (
    BuyerCancelRequested,
    Delivered,
    Event,
    InvoiceUploaded,
    MarketAcknowledged,
    OrderCancelled,
    OrderPaid,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    Courier,
    MarketOrder,
    OrderLine,
    OrderRef,
    Tracking,
)
from consign_core.domain.timing._types import SupplierOrderState
from consign_core.domain.workflow._commands import ListingCommandKind, OutboxCommand, SetListing
from consign_core.domain.workflow._types import (
    Acknowledge,
    AnswerBuyerRequest,
    BuyerRequestAnswer,
    BuyerRequestKind,
    CancelMarketOrder,
    CancelPurpose,
    CancelSupplierOrder,
    Command,
    CommandKind,
    EscalateOrder,
    MessageBuyer,
    OrderState,
    PlaceSupplierOrder,
    Progress,
    ScheduleWakeUp,
    SupplierCancelState,
    UploadInvoice,
)
from consign_core.errors import StoreError
from consign_core.store._types import (
    ClockAdvanced,
    JournalRecord,
    OrderWithdrawn,
    StockReported,
)


__all__ = [
    "OrderCache",
    "decode_command",
    "decode_event",
    "decode_journal_record",
    "decode_state",
    "encode_command",
    "encode_event",
    "encode_journal_record",
    "encode_state",
    "ref_key",
]

_STATE_CODEC = 2  # 2: couriers as consign_core Courier values, not vendor codes
_SEPARATORS = (",", ":")


def ref_key(ref: OrderRef) -> str:
    """The store's key for an order: market and order id joined by a tab (unambiguous)."""
    return f"{ref.market}\t{ref.order_id}"


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _cancellation(value: Cancellation | None) -> list[Any] | None:
    if value is None:
        return None
    return [value.fault.value, value.reason.value, value.at.isoformat(), value.note]


def _parse_cancellation(value: list[Any] | None) -> Cancellation | None:
    if value is None:
        return None
    fault, reason, at, note = value
    return Cancellation(
        fault=CancelFault(fault),
        reason=CancelReason(reason),
        at=datetime.fromisoformat(at),
        note=note,
    )


def _order(order: MarketOrder) -> list[Any]:
    # Never the recipient: the buyer's delivery details are personal data, kept by the stores
    # in a table of their own (purged after the order ended), not in the state, the journal
    # or the outbox.
    return [
        order.ref.market,
        order.ref.order_id,
        [[ln.sku, ln.quantity, ln.unit_price, ln.supplier_item_id] for ln in order.lines],
        order.paid_at.isoformat(),
        order.ship_by.isoformat(),
    ]


def _parse_order(value: list[Any]) -> MarketOrder:
    market, order_id, lines, paid_at, ship_by = value
    parsed: Any = [
        OrderLine(sku=sku, quantity=qty, unit_price=price, supplier_item_id=item)
        for sku, qty, price, item in lines
    ]
    return MarketOrder(
        ref=OrderRef(market=market, order_id=order_id),
        lines=parsed,
        paid_at=datetime.fromisoformat(paid_at),
        ship_by=datetime.fromisoformat(ship_by),
    )


class OrderCache:
    """Remembers the JSON of recently encoded orders (an order never changes, its state does)."""

    __slots__ = ("_entries", "_limit")

    def __init__(self, limit: int = 100_000) -> None:
        self._entries: dict[int, tuple[MarketOrder, str]] = {}
        self._limit = limit

    def json(self, order: MarketOrder) -> str:
        """``order`` as a compact JSON array."""
        hit = self._entries.get(id(order))
        if hit is not None and hit[0] is order:
            return hit[1]
        text = json.dumps(_order(order), separators=_SEPARATORS, ensure_ascii=False)
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[id(order)] = (order, text)
        return text


def _order_json(order: MarketOrder, cache: OrderCache | None) -> str:
    if cache is not None:
        return cache.json(order)
    return json.dumps(_order(order), separators=_SEPARATORS, ensure_ascii=False)


def encode_state(state: OrderState, cache: OrderCache | None = None) -> str:
    """One order state as a compact JSON array (assembled by hand: it is written often).

    Enum values are plain identifiers, so they are written without escaping.
    """
    s = state
    tracking = s.tracking
    cancellation = s.cancellation
    return (
        f"[{_STATE_CODEC},{_order_json(s.order, cache)},{s.candidate},{s.attempt},"
        f'{_str(s.supplier_id)},{_str(s.item_id)},"{s.supplier_state._value_}",'
        f"{_str(s.supplier_order_id)},{_dt_json(s.placed_at)},{int(s.place_pending)},"
        f'"{s.ack._value_}","{s.invoice._value_}",'
        f"{'null' if tracking is None else _tracking_json(tracking)},"
        f'"{s.market_cancel._value_}",'
        f"{'null' if cancellation is None else _cancellation_json(cancellation)},"
        f'"{s.supplier_cancel._value_}",{_opt(s.cancel_purpose)},{_opt(s.supplier_cancel_reason)},'
        f"{_opt(s.buyer_reason)},{_str(s.buyer_request_id)},{_opt(s.buyer_request)},"
        f"{int(s.answer_pending)},{int(s.stock_out_known)},{_dt_json(s.wake_at)},"
        f"{_str(s.escalation)},{int(s.delay_notified)},{int(s.delivered)},{_quote(s.last_reason)}]"
    )


def _tracking_json(value: Tracking) -> str:
    return f"[{_quote(value.courier.value)},{_quote(value.number)}]"


def _opt(member: enum.Enum | None) -> str:
    return "null" if member is None else f'"{member._value_}"'


def _str(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def _dt_json(value: datetime | None) -> str:
    if value is None:
        return "null"
    # Keyed by the zone and fold too: datetimes are equal (and hash alike) when they are the
    # same instant in two zones, or the same wall time in one zone whatever their fold (the
    # two passes of a repeated hour, an hour apart); each must keep its own offset.
    key = (value, value.tzinfo, value.fold)
    text = _ISO.get(key)
    if text is None:
        if len(_ISO) > 50_000:
            _ISO.clear()
        text = _ISO[key] = f'"{value.isoformat()}"'
    return text


_ISO: dict[tuple[datetime, object, int], str] = {}
"""isoformat() is the costliest part of a state; the same instants recur (placement, wake-ups)."""


def _cancellation_json(value: Cancellation) -> str:
    return (
        f'["{value.fault.value}","{value.reason.value}","{value.at.isoformat()}",'
        f"{_quote(value.note)}]"
    )


def _check_codec(version: object) -> None:
    if version != _STATE_CODEC:
        msg = f"order state written with codec {version!r}; this version reads {_STATE_CODEC}"
        raise StoreError(msg)


def decode_state(text: str) -> OrderState:
    """The inverse of :func:`encode_state`; raises :class:`StoreError` on an unknown format."""
    try:
        row = json.loads(text)
        _check_codec(row[0])
        (
            _,
            order,
            candidate,
            attempt,
            supplier_id,
            item_id,
            supplier_state,
            supplier_order_id,
            placed_at,
            place_pending,
            ack,
            invoice,
            tracking,
            market_cancel,
            cancellation,
            supplier_cancel,
            cancel_purpose,
            supplier_cancel_reason,
            buyer_reason,
            buyer_request_id,
            buyer_request,
            answer_pending,
            stock_out_known,
            wake_at,
            escalation,
            delay_notified,
            delivered,
            last_reason,
        ) = row
        return OrderState(
            order=_parse_order(order),
            candidate=candidate,
            attempt=attempt,
            supplier_id=supplier_id,
            item_id=item_id,
            supplier_state=SupplierOrderState(supplier_state),
            supplier_order_id=supplier_order_id,
            placed_at=_parse_dt(placed_at),
            place_pending=bool(place_pending),
            ack=Progress(ack),
            invoice=Progress(invoice),
            tracking=None
            if tracking is None
            else Tracking(courier=Courier(tracking[0]), number=tracking[1]),
            market_cancel=Progress(market_cancel),
            cancellation=_parse_cancellation(cancellation),
            supplier_cancel=SupplierCancelState(supplier_cancel),
            cancel_purpose=None if cancel_purpose is None else CancelPurpose(cancel_purpose),
            supplier_cancel_reason=None
            if supplier_cancel_reason is None
            else CancelReason(supplier_cancel_reason),
            buyer_reason=None if buyer_reason is None else CancelReason(buyer_reason),
            buyer_request_id=buyer_request_id,
            buyer_request=None if buyer_request is None else BuyerRequestKind(buyer_request),
            answer_pending=bool(answer_pending),
            stock_out_known=bool(stock_out_known),
            wake_at=_parse_dt(wake_at),
            escalation=escalation,
            delay_notified=bool(delay_notified),
            delivered=bool(delivered),
            last_reason=last_reason,
        )
    except StoreError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        msg = f"unreadable order state {text[:80]!r}: {exc}"
        raise StoreError(msg) from exc


def encode_command(command: OutboxCommand) -> str:
    """A command as a compact JSON array (its kind is stored beside it)."""
    c = command
    kind = type(c)
    if isinstance(c, SetListing):
        return _encode_listing(c)
    # the three commands every order sends, assembled by hand (the same JSON as json.dumps)
    if kind is Acknowledge:
        return f"[{_quote(c.ref.market)},{_quote(c.ref.order_id)}]"
    if kind is PlaceSupplierOrder:
        assert isinstance(c, PlaceSupplierOrder)  # noqa: S101 - narrowed for mypy
        return (
            f"[{_quote(c.ref.market)},{_quote(c.ref.order_id)},{_quote(c.supplier_id)},"
            f"{_quote(c.item_id)},{c.quantity},{_quote(c.idempotency_key)},{c.attempt}]"
        )
    if kind is UploadInvoice:
        assert isinstance(c, UploadInvoice)  # noqa: S101 - narrowed for mypy
        t = c.tracking
        return (
            f"[{_quote(c.ref.market)},{_quote(c.ref.order_id)},{_quote(t.courier.value)},"
            f"{_quote(t.number)}]"
        )
    head: list[Any] = [c.ref.market, c.ref.order_id]
    if isinstance(c, CancelSupplierOrder):
        row = [*head, c.supplier_id, c.supplier_order_id, c.memo]
    elif isinstance(c, CancelMarketOrder):
        row = [*head, _cancellation(c.cancellation)]
    elif isinstance(c, MessageBuyer):
        row = [*head, c.template_id, [list(pair) for pair in c.params]]
    elif isinstance(c, EscalateOrder):
        row = [*head, c.reason]
    elif isinstance(c, ScheduleWakeUp):
        row = [*head, c.at.isoformat()]
    else:
        assert isinstance(c, AnswerBuyerRequest)  # noqa: S101 - the last kind
        tracking = None if c.tracking is None else [c.tracking.courier.value, c.tracking.number]
        row = [*head, c.request_id, c.answer.value, tracking]
    return json.dumps(row, separators=_SEPARATORS, ensure_ascii=False)


def _encode_listing(c: SetListing) -> str:
    row = [c.market, c.market_sku, c.selling, c.quantity, c.at.isoformat()]
    return json.dumps(row, separators=_SEPARATORS, ensure_ascii=False)


def _decode_listing(row: list[Any]) -> SetListing:
    market, sku, selling, quantity, at = row
    return SetListing(
        market=market,
        market_sku=sku,
        selling=selling,
        quantity=quantity,
        at=datetime.fromisoformat(at),
    )


def decode_command(kind: str, text: str) -> Command:
    """The inverse of :func:`encode_command`.

    A listing command (:class:`~consign_core.domain.workflow._commands.SetListing`, kind
    ``set_listing``) is returned too, though typed as the store's ``OutboxEntry.command``
    (a workflow :data:`Command`) still is.
    """
    try:
        if kind == ListingCommandKind.SET_LISTING.value:
            return cast("Command", _decode_listing(json.loads(text)))
        return _decode_command(CommandKind(kind), json.loads(text))
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        msg = f"unreadable {kind} command {text[:80]!r}: {exc}"
        raise StoreError(msg) from exc


def _decode_command(kind: CommandKind, row: list[Any]) -> Command:  # noqa: PLR0911 - per kind
    ref = OrderRef(market=row[0], order_id=row[1])
    k = CommandKind
    if kind is k.PLACE_SUPPLIER_ORDER:
        sid, item, qty, key, attempt = row[2:7]
        return PlaceSupplierOrder(
            ref=ref,
            supplier_id=sid,
            item_id=item,
            quantity=qty,
            idempotency_key=key,
            attempt=attempt,
        )
    if kind is k.CANCEL_SUPPLIER_ORDER:
        return CancelSupplierOrder(
            ref=ref, supplier_id=row[2], supplier_order_id=row[3], memo=row[4]
        )
    if kind is k.ACKNOWLEDGE:
        return Acknowledge(ref=ref)
    if kind is k.UPLOAD_INVOICE:
        return UploadInvoice(ref=ref, tracking=Tracking(courier=Courier(row[2]), number=row[3]))
    if kind is k.CANCEL_MARKET_ORDER:
        cancellation = _parse_cancellation(row[2])
        if cancellation is None:
            msg = "a cancel command without its cancellation"
            raise ValueError(msg)
        return CancelMarketOrder(ref=ref, cancellation=cancellation)
    if kind is k.MESSAGE_BUYER:
        params = tuple((str(name), str(value)) for name, value in row[3])
        return MessageBuyer(ref=ref, template_id=row[2], params=params)
    if kind is k.ESCALATE:
        return EscalateOrder(ref=ref, reason=row[2])
    if kind is k.SCHEDULE_WAKE_UP:
        return ScheduleWakeUp(ref=ref, at=datetime.fromisoformat(row[2]))
    tracking = None if row[4] is None else Tracking(courier=Courier(row[4][0]), number=row[4][1])
    return AnswerBuyerRequest(
        ref=ref, request_id=row[2], answer=BuyerRequestAnswer(row[3]), tracking=tracking
    )


# --------------------------------------------------------------------------------------
# Lifecycle events, positionally (the journal holds many of them)
# --------------------------------------------------------------------------------------


def _frequent_record(event: Event, ref: OrderRef) -> str | None:
    """The journal's most frequent records, assembled by hand (exactly what ``json.dumps``
    writes for :func:`encode_event`'s arrays); ``None`` for the other events."""
    kind = type(event)
    if kind is SupplierOrderPlaced:
        assert isinstance(event, SupplierOrderPlaced)  # noqa: S101 - narrowed for mypy
        stock = event.reported_stock
        return (
            f'["O",{_quote(ref.market)},{_quote(ref.order_id)},{_dt_json(event.at)},'
            f"{_quote(event.supplier_id)},{_quote(event.supplier_order_id)},"
            f"{_quote(event.item_id)},{event.quantity},{'null' if stock is None else stock}]"
        )
    if kind is SupplierConfirmed or kind is SupplierInvoiced:
        assert isinstance(event, SupplierConfirmed | SupplierInvoiced)  # noqa: S101 - narrowed
        text = (
            f'["{"C" if kind is SupplierConfirmed else "I"}",{_quote(ref.market)},'
            f"{_quote(ref.order_id)},{_dt_json(event.at)},{_quote(event.supplier_id)},"
            f"{_quote(event.supplier_order_id)}"
        )
        if isinstance(event, SupplierInvoiced):
            t = event.tracking
            return f"{text},{_quote(t.courier.value)},{_quote(t.number)}]"
        return text + "]"
    if kind is MarketAcknowledged or kind is Delivered:
        tag = "A" if kind is MarketAcknowledged else "D"
        return f'["{tag}",{_quote(ref.market)},{_quote(ref.order_id)},{_dt_json(event.at)}]'
    if kind is InvoiceUploaded:
        assert isinstance(event, InvoiceUploaded)  # noqa: S101 - narrowed for mypy
        t = event.tracking
        return (
            f'["U",{_quote(ref.market)},{_quote(ref.order_id)},{_dt_json(event.at)},'
            f"{_quote(t.courier.value)},{_quote(t.number)}]"
        )
    return None


def encode_event(event: Event) -> str:
    """A lifecycle event as a compact JSON array tagged with one upper-case letter."""
    if isinstance(event, OrderPaid):
        return f'["P",{_order_json(event.order, None)}]'
    ref = event.ref
    text = _frequent_record(event, ref)
    if text is not None:
        return text
    head: list[Any] = [ref.market, ref.order_id]
    if isinstance(event, OrderCancelled):
        row: list[Any] = ["Z", *head, _cancellation(event.cancellation)]
    elif isinstance(event, SupplierCancelled):
        row = ["X", *head, event.at.isoformat(), event.supplier_id, event.supplier_order_id]
        row += [event.reason.value, event.note]
    else:
        assert isinstance(event, BuyerCancelRequested)  # noqa: S101 - the rest are above
        row = ["B", *head, event.at.isoformat(), event.reason.value, event.request_id]
    return json.dumps(row, separators=_SEPARATORS, ensure_ascii=False)


def decode_event(row: list[Any]) -> Event:  # noqa: PLR0911 - one return per event type
    """The inverse of :func:`encode_event` (given the parsed JSON array)."""
    tag = row[0]
    if tag == "P":
        return OrderPaid(order=_parse_order(row[1]))
    ref = OrderRef(market=row[1], order_id=row[2])
    if tag == "Z":
        cancellation = _parse_cancellation(row[3])
        assert cancellation is not None  # noqa: S101 - always written
        return OrderCancelled(ref=ref, cancellation=cancellation)
    at = datetime.fromisoformat(row[3])
    if tag == "O":
        sid, soid, item, qty, stock = row[4:9]
        return SupplierOrderPlaced(
            ref=ref,
            at=at,
            supplier_id=sid,
            supplier_order_id=soid,
            item_id=item,
            quantity=qty,
            reported_stock=stock,
        )
    if tag == "C":
        return SupplierConfirmed(ref=ref, at=at, supplier_id=row[4], supplier_order_id=row[5])
    if tag == "I":
        tracking = Tracking(courier=Courier(row[6]), number=row[7])
        return SupplierInvoiced(
            ref=ref, at=at, supplier_id=row[4], supplier_order_id=row[5], tracking=tracking
        )
    if tag == "X":
        return SupplierCancelled(
            ref=ref,
            at=at,
            supplier_id=row[4],
            supplier_order_id=row[5],
            reason=CancelReason(row[6]),
            note=row[7],
        )
    if tag == "A":
        return MarketAcknowledged(ref=ref, at=at)
    if tag == "U":
        return InvoiceUploaded(
            ref=ref, at=at, tracking=Tracking(courier=Courier(row[4]), number=row[5])
        )
    if tag == "B":
        return BuyerCancelRequested(ref=ref, at=at, reason=CancelReason(row[4]), request_id=row[5])
    if tag == "D":
        return Delivered(ref=ref, at=at)
    msg = f"unknown journal event tag {tag!r}"
    raise StoreError(msg)


# --------------------------------------------------------------------------------------
# Journal records (events and the engine's own records)
# --------------------------------------------------------------------------------------


def encode_journal_record(record: JournalRecord) -> str:
    """A journal record as compact JSON text (an event: :func:`encode_event`)."""
    kind = type(record)
    if kind is ClockAdvanced:
        assert isinstance(record, ClockAdvanced)  # noqa: S101 - narrowed for mypy
        return f'["t",{_dt_json(record.at)}]'
    if kind is StockReported:
        assert isinstance(record, StockReported)  # noqa: S101 - narrowed for mypy
        row: list[Any] = ["s", record.supplier_id, record.item_id, record.stock]
        row.append(record.at.isoformat())
        return json.dumps(row, ensure_ascii=False)
    if kind is OrderWithdrawn:
        assert isinstance(record, OrderWithdrawn)  # noqa: S101 - narrowed for mypy
        row = ["w", record.supplier_id, record.supplier_order_id, record.at.isoformat()]
        return json.dumps(row)
    assert not isinstance(record, tuple)  # noqa: S101 - the engine's records are above
    return encode_event(record)


def decode_journal_record(text: str) -> JournalRecord:
    """The inverse of :func:`encode_journal_record`."""
    try:
        row = json.loads(text)
        tag = row[0]
        if tag == "t":
            return ClockAdvanced(datetime.fromisoformat(row[1]))
        if tag == "s":
            _, supplier_id, item_id, stock, at = row
            return StockReported(supplier_id, item_id, stock, datetime.fromisoformat(at))
        if tag == "w":
            _, supplier_id, supplier_order_id, at = row
            return OrderWithdrawn(supplier_id, supplier_order_id, datetime.fromisoformat(at))
        return decode_event(row)
    except StoreError:
        raise
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        msg = f"unreadable journal record ({type(exc).__name__})"
        raise StoreError(msg) from exc
