"""``consign-core decisions --store FILE ORDER``: one order's decision history, from a store file.

ORDER is written the way the engine prints an order, ``market:order_id`` (``coupang:123-456``).
The table shows each decision oldest first (time in KST, kind, reason and the numbers that
priced it); ``--json`` prints the documented document::

    {"schema_version": 1, "command": "decisions", "order": "coupang:123-456",
     "decisions": [{"ref": ..., "at": ..., "kind": ..., "reason": ..., "numbers": {...}}]}
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from consign_core.cli._args import _UsageError
from consign_core.cli._output import _console, _dump, _table


if TYPE_CHECKING:
    from consign_core.domain.decisions import DecisionRecord
    from consign_core.domain.model import OrderRef


_KEY_NUMBERS = (
    "cost_confirm",
    "cost_wait",
    "p_fail",
    "p_cancel",
    "p_cancel_upper",
    "quantity",
    "cancels_to_warning",
    "expected_wait_hours",
    "hours_since_paid",
)
"""The numbers the table shows, in this order, when a record has them (``--json`` has all)."""

_SHOWN = 4
"""At most this many numbers per row of the table."""


def _order_ref(text: str) -> OrderRef:
    from consign_core.domain.model import OrderRef
    from consign_core.errors import ValidationError

    market, sep, order_id = text.partition(":")
    if not sep:
        msg = (
            f"ORDER must be market:order_id as the engine prints it (coupang:123-456), got {text!r}"
        )
        raise _UsageError(msg)
    try:
        return OrderRef(market=market.strip(), order_id=order_id.strip())
    except ValidationError:
        msg = f"ORDER must be market:order_id with both parts, got {text!r}"
        raise _UsageError(msg) from None


def _number(name: str, value: float) -> str:
    if name.startswith("p_"):
        return f"{name} {100 * value:.1f}%"
    if value.is_integer():
        return f"{name} {value:,.0f}"
    return f"{name} {value:,.2f}"


def _key_numbers(record: DecisionRecord) -> str:
    numbers = record.numbers
    names = [n for n in _KEY_NUMBERS if n in numbers]
    names += [n for n in numbers if n not in _KEY_NUMBERS]
    return ", ".join(_number(n, numbers[n]) for n in names[:_SHOWN])


def _decisions(args: argparse.Namespace, out: TextIO, _err: TextIO) -> int:
    from consign_core.domain.calendar import to_kst
    from consign_core.store import read_decisions

    ref = _order_ref(args.order)
    path = Path(args.store)
    if not path.is_file():  # never create an empty store by looking
        msg = f"cannot read {args.store}: no such file"
        raise _UsageError(msg)
    records = read_decisions(path, ref)  # read-only: never migrates or changes the file
    if args.json:
        _dump(
            {
                "schema_version": 1,
                "command": "decisions",
                "order": str(ref),
                "decisions": [r.to_dict() for r in records],
            },
            out,
        )
        return 0
    if not records:
        out.write(f"{ref}: no decisions recorded in {args.store}\n")
        return 0
    table = _table(
        ["time (KST)", "kind", "reason", "key numbers"],
        [
            [
                to_kst(r.at).strftime("%Y-%m-%d %H:%M"),
                r.kind.value,
                r.reason,
                _key_numbers(r),
            ]
            for r in records
        ],
        set(),
        _console(out),
    )
    count = f"{len(records)} decision" + ("" if len(records) == 1 else "s")
    out.write(f"{ref}: {count}, oldest first\n\n{table}\n")
    return 0
