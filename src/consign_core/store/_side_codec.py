"""The codec of the store's side tables: the decision history and the buyers' delivery
details (kept apart from the order states, see the stores)."""

from __future__ import annotations

import json
from datetime import datetime

import attrs

from consign_core.domain.decisions import DecisionRecord
from consign_core.domain.model import OrderRef, Recipient
from consign_core.domain.workflow._types import OrderState
from consign_core.errors import StoreError
from consign_core.store._codec import ref_key


__all__ = [
    "decision_names",
    "decode_decision",
    "decode_recipient",
    "encode_decision",
    "encode_recipient",
    "with_recipient",
]

_SEPARATORS = (",", ":")


def decision_names(record: DecisionRecord) -> str:
    """The names of a record's numbers as a JSON list: stored once per distinct list (a policy
    gives the same names every time), each record keeping only the values."""
    key = tuple(record.numbers)
    text = _NAMES.get(key)
    if text is None:
        text = json.dumps(list(key), separators=_SEPARATORS, ensure_ascii=False)
        if len(_NAMES) < 256:  # a few policies' name lists
            _NAMES[key] = text
    return text


_NAMES: dict[tuple[str, ...], str] = {}


def encode_decision(record: DecisionRecord, names_id: int) -> tuple[str, str, str, str, int, str]:
    """A decision record as the columns ``(ref, at, kind, reason, names, numbers)``: ``names``
    is the id of its :func:`decision_names` row, ``numbers`` the values as a JSON list."""
    values = ",".join(map(float.__repr__, record.numbers.values()))
    # JSON spells a finite float as repr() does; inf and nan (the only reprs with an "n") not
    values = (
        json.dumps(list(record.numbers.values()), separators=_SEPARATORS)
        if "n" in values
        else f"[{values}]"
    )
    return (
        ref_key(record.ref),
        record.at.isoformat(),
        record.kind.value,
        record.reason,
        names_id,
        values,
    )


def decode_decision(  # noqa: PLR0917 - one argument per column
    ref: OrderRef, at: str, kind: str, reason: str, names: str, numbers: str
) -> DecisionRecord:
    """The inverse of :func:`encode_decision`, given the order (known from the query) and the
    names' JSON list; an unreadable row raises :class:`~consign_core.errors.StoreError`."""
    try:
        keys = json.loads(names)
        values = json.loads(numbers)
        return DecisionRecord(  # zip(strict=True): as many names as numbers, or ValueError
            ref=ref,
            at=datetime.fromisoformat(at),
            kind=kind,
            reason=reason,
            numbers=dict(zip(keys, values, strict=True)),
        )
    except (ValueError, TypeError) as exc:  # ValidationError is a ValueError
        msg = f"unreadable decision record of {ref} at {at!r}: {exc}"
        raise StoreError(msg) from exc


# --------------------------------------------------------------------------------------
# The buyer's delivery details: kept apart from the order state (see the stores)
# --------------------------------------------------------------------------------------

_RECIPIENT_CODEC = 1


def with_recipient(state: OrderState, recipient: Recipient | None) -> OrderState:
    """``state`` with its order's delivery details set to ``recipient`` (``None``: removed,
    as a store keeps the state; a store puts them back when it reads the state)."""
    order = state.order
    if order.recipient is recipient:
        return state
    return state.evolve(order=attrs.evolve(order, recipient=recipient))


def encode_recipient(recipient: Recipient) -> str:
    """A :class:`~consign_core.domain.model.Recipient` as a compact JSON array, tagged with
    its codec version (the personal-data table's ``data`` column; never logged)."""
    r = recipient
    row = [_RECIPIENT_CODEC, r.name, r.phone, r.zip_code, r.address1, r.address2, r.memo]
    return json.dumps(row, separators=_SEPARATORS, ensure_ascii=False)


def decode_recipient(ref: OrderRef, text: str) -> Recipient:
    """The inverse of :func:`encode_recipient`; an unreadable row raises
    :class:`~consign_core.errors.StoreError` naming the order, never the data."""
    try:
        row = json.loads(text)
    except ValueError:
        row = None
    version = row[0] if isinstance(row, list) and row else None
    if version != _RECIPIENT_CODEC:
        shown = version if isinstance(version, int) else type(version).__name__  # never data
        msg = (
            f"delivery details of {ref} written with codec {shown!r}; "
            f"this version reads {_RECIPIENT_CODEC}"
        )
        raise StoreError(msg)
    assert isinstance(row, list)  # noqa: S101 - narrowed by the check above
    try:
        _, name, phone, zip_code, address1, address2, memo = row
        return Recipient(
            name=name,
            phone=phone,
            zip_code=zip_code,
            address1=address1,
            address2=address2,
            memo=memo,
        )
    except (ValueError, TypeError) as exc:  # ValidationError is a ValueError
        # the exception's text may quote the data: name its type only
        msg = f"unreadable delivery details of {ref} ({type(exc).__name__})"
        raise StoreError(msg) from None
