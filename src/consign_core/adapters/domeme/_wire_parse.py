"""Domeme wire parsing: lenient scalars and lists, and the one cattrs converter.

Every quirk of the wire is handled here and in the DTO modules (``_wire_items``,
``_wire_orders``), nowhere else:

- numbers arrive as ``int`` or as strings (``"197035"``, ``"3,000"``, ``"98%"``);
- a list with one element arrives as the element itself (``list.item`` as an object);
- ``selectOpt`` is JSON encoded inside a string, or ``""`` when the item has no options;
- ``price.dome`` is an ``int`` or a tier string ``"1+3800|20+3500"``;
- an empty block can arrive as ``""`` or ``[]`` instead of an object.

A reply that still does not fit raises :class:`~consign_core.errors.UnexpectedResponseError`
naming the path (``$.domeggook.qty.inventory``), never the value: replies carry buyers'
personal data (getOrderView's ``consumer`` block, which no DTO reads).
"""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from consign_core.errors import UnexpectedResponseError


__all__ = [
    "ADAPTER",
    "KST",
    "as_rows",
    "is_blank",
    "make_domeme_converter",
    "parse_wire_datetime",
    "structure_reply",
    "to_int",
    "wire",
]

T = TypeVar("T")
KST = timezone(timedelta(hours=9), "KST")
"""Korea Standard Time: the wire's times carry no zone."""

ADAPTER = "domeme"


def wire(name: str) -> dict[str, str]:
    """Field metadata: the field's name on the wire."""
    return {"wire": name}


_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def _clean_number(value: str) -> str:
    return value.strip().replace(",", "").removesuffix("%").removesuffix("원").strip()


def to_int(value: object, _: object = None) -> int:
    if isinstance(value, bool):
        msg = "expected a whole number"
        raise ValueError(msg)  # noqa: TRY004 - cattrs reports ValueErrors with their path
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = _clean_number(value)
        if _INT.fullmatch(text):
            return int(text)
        if _FLOAT.fullmatch(text) and float(text).is_integer():
            return int(float(text))
    msg = "expected a whole number"
    raise ValueError(msg)


def _to_float(value: object, _: object = None) -> float:
    if isinstance(value, bool):
        msg = "expected a number"
        raise ValueError(msg)  # noqa: TRY004 - cattrs reports ValueErrors with their path
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str) and _FLOAT.fullmatch(_clean_number(value)):
        result = float(_clean_number(value))
    else:
        msg = "expected a number"
        raise ValueError(msg)
    if not math.isfinite(result):
        msg = "expected a finite number"
        raise ValueError(msg)
    return result


def _to_str(value: object, _: object = None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    msg = "expected text"
    raise ValueError(msg)


def is_blank(value: object) -> bool:
    return value is None or value in ("", [], {})


def _optional(inner: Callable[[object, object], T]) -> Callable[[object, object], T | None]:
    def hook(value: object, _: object = None) -> T | None:
        return None if is_blank(value) else inner(value, None)

    return hook


def as_rows(value: object) -> list[Any]:
    """A wire list: ``None``/``""`` -> ``[]``; one object -> ``[object]``; a list as is."""
    if is_blank(value):
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping) and "item" in value and len(value) == 1:
        return as_rows(value["item"])
    return [value]


def parse_wire_datetime(value: str | int | None) -> datetime | None:
    """A wire date or time (KST when it has no zone): ``2026-11-02 13:05:00``, ``20261102``,
    ``2026-11-02``, a Unix timestamp. ``None`` when absent or unreadable."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.isdigit() and len(text) >= 9 and not text.startswith(("19", "20")):
        return datetime.fromtimestamp(int(text), tz=timezone.utc)
    for fmt in (
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y%m%d%H%M%S",
        "%Y-%m-%d",
        "%Y%m%d",
        "%Y.%m.%d %H:%M:%S",
        "%Y.%m.%d",
    ):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=KST)
        except ValueError:  # noqa: PERF203 - a handful of formats, tried in order
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=KST)


def _attrs_hook_factory(converter: cattrs.Converter) -> Callable[[type[Any]], Any]:
    def factory(cls: type[Any]) -> Callable[[object, object], Any]:
        overrides = {
            a.name: override(rename=a.metadata["wire"])
            for a in attrs.fields(cls)
            if "wire" in a.metadata
        }
        inner = make_dict_structure_fn(cls, converter, **overrides)  # type: ignore[arg-type]

        def hook(value: object, _: object = None) -> Any:
            if is_blank(value):
                value = {}
            if not isinstance(value, Mapping):
                msg = "expected an object"
                raise ValueError(msg)  # noqa: TRY004 - cattrs reports ValueErrors with paths
            return inner(value, cls)

        return hook

    return factory


def _is_tuple(tp: object) -> bool:
    return typing.get_origin(tp) is tuple


def _tuple_hook_factory(converter: cattrs.Converter) -> Callable[[Any], Any]:
    def factory(tp: Any) -> Callable[[object, object], tuple[Any, ...]]:
        (element, *_rest) = typing.get_args(tp)

        def hook(value: object, _: object = None) -> tuple[Any, ...]:
            rows = as_rows(value)
            return tuple(converter.structure(row, element) for row in rows)

        return hook

    return factory


def make_domeme_converter() -> cattrs.Converter:
    """The converter for Domeme replies: lenient numbers, one-element lists as objects,
    ``selectOpt`` decoded from its string, empty blocks as ``""``. Its own instance, never
    the global converter."""
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)
    converter.register_structure_hook(int, to_int)
    converter.register_structure_hook(float, _to_float)
    converter.register_structure_hook(str, _to_str)
    converter.register_structure_hook_func(lambda t: t == (int | None), _optional(to_int))
    converter.register_structure_hook_func(lambda t: t == (float | None), _optional(_to_float))
    converter.register_structure_hook_func(lambda t: t == (str | None), _optional(_to_str))
    converter.register_structure_hook_factory(_is_tuple, _tuple_hook_factory(converter))
    converter.register_structure_hook_factory(attrs.has, _attrs_hook_factory(converter))
    return converter


def _classes_in(tp: object) -> Iterator[type[Any]]:
    if isinstance(tp, type) and attrs.has(tp):
        yield tp
    for arg in typing.get_args(tp):
        yield from _classes_in(arg)


_NAMES_OF: dict[type[Any], Mapping[str, str]] = {}


def _wire_names(cls: type[Any]) -> Mapping[str, str]:
    """Python field name -> wire name, over ``cls`` and every DTO it holds (remembered)."""
    known = _NAMES_OF.get(cls)
    if known is not None:
        return known
    names: dict[str, str] = {}
    stack, seen = [cls], set()
    while stack:
        current = stack.pop()
        if current in seen or not attrs.has(current):
            continue
        seen.add(current)
        attrs.resolve_types(current)
        for a in attrs.fields(current):
            if "wire" in a.metadata:
                names[a.name] = a.metadata["wire"]
            stack.extend(_classes_in(a.type))
    _NAMES_OF[cls] = names
    return names


_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")


def _to_wire_path(line: str, names: Mapping[str, str]) -> str:
    """``... @ $.domeggook.qty.supply_unit`` -> ``... @ $.domeggook.qty.supplyUnit``."""
    text, at, path = line.rpartition(" @ ")
    if not at:
        return line
    return f"{text} @ " + _SEGMENT.sub(lambda m: "." + names.get(m[1], m[1]), path)


def structure_reply(
    converter: cattrs.Converter, payload: object, cls: type[T], *, path: str, mode: str
) -> T:
    """Build ``cls`` from ``payload``; a misfit raises ``UnexpectedResponseError`` naming
    the paths (never the values)."""
    try:
        return converter.structure(payload, cls)
    except Exception as exc:  # noqa: BLE001 - every misfit becomes one typed error
        if isinstance(exc, cattrs.BaseValidationError):
            names = _wire_names(cls)
            lines = [_to_wire_path(line, names) for line in cattrs.transform_error(exc, path=path)]
        else:
            lines = [f"unreadable reply @ {path}"]
        msg = f"{mode}: unexpected reply: " + "; ".join(lines[:5])
        raise UnexpectedResponseError(msg, adapter=ADAPTER) from None
