"""Turn domain values into plain JSON-ready data and back.

:func:`make_converter` builds the one ``cattrs`` converter for the domain wire format (state
snapshots, event logs, rule profiles). It is a factory: each call returns a fresh converter,
and the library never touches cattrs' global converter. The format:

- aware datetimes as ISO 8601 strings with their offset (``"2025-09-29T10:00:00+09:00"``);
  a naive or unparsable time is rejected;
- dates as ``"YYYY-MM-DD"``; enums by value; tuples and sets as lists (sets sorted);
- scalars as they are: a string, integer, number or boolean field takes only a value of that
  JSON type (an integer is fine for a number), never a coerced one (``"3"``, ``9.99`` for an
  integer, ``"false"`` for a boolean, ``null`` for a string are errors);
- events as objects with a ``"type"`` tag (``{"type": "order_paid", ...}``);
- unknown keys are rejected, so a typo in a profile file is an error, not a silent default.

:func:`structure` and :func:`unstructure` use a shared converter of this kind and turn every
failure into a :class:`~consign_core.errors.SerializationError` that says which field, where.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.v import format_exception

from consign_core.domain.events import EVENT_TYPES, Event
from consign_core.errors import ConsignError, SerializationError


__all__ = ["event_type_tag", "make_converter", "structure", "unstructure"]

T = TypeVar("T")

_TAG = "type"


def event_type_tag(cls: type[object]) -> str:
    """The wire tag of an event class: its name in snake case (``OrderPaid`` -> ``order_paid``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


_TAG_TO_EVENT: dict[str, type[Event]] = {event_type_tag(cls): cls for cls in EVENT_TYPES}


def _structure_datetime(value: object, _: type[datetime]) -> datetime:
    if not isinstance(value, str):
        msg = f"expected an ISO 8601 string for a datetime, got {value!r}"
        raise TypeError(msg)
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        msg = f"not an ISO 8601 datetime: {value!r}"
        raise ValueError(msg) from exc
    if parsed.tzinfo is None:
        msg = f"datetime {value!r} has no UTC offset; give e.g. {value}+09:00"
        raise ValueError(msg)
    return parsed


def _structure_date(value: object, _: type[date]) -> date:
    if not isinstance(value, str):
        msg = f"expected an ISO 8601 string for a date, got {value!r}"
        raise TypeError(msg)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        msg = f"not an ISO 8601 date: {value!r}"
        raise ValueError(msg) from exc


def _structure_str(value: object, _: type[str]) -> str:
    if not isinstance(value, str):
        msg = f"expected a string, got {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - a ValueError keeps this message in the report
    return value


def _structure_int(value: object, _: type[int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"expected an integer, got {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - a ValueError keeps this message in the report
    return value


def _structure_float(value: object, _: type[float]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"expected a number, got {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - a ValueError keeps this message in the report
    return float(value)


def _structure_bool(value: object, _: type[bool]) -> bool:
    if not isinstance(value, bool):
        msg = f"expected true or false, got {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - a ValueError keeps this message in the report
    return value


def _unstructure_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        msg = f"refusing to serialise naive datetime {value!r}"
        raise ValueError(msg)
    return value.isoformat()


def _format_problem(exc: BaseException, type_: type | None) -> str:
    """Keep our own messages (they name field and value); defer to cattrs for the rest."""
    if isinstance(exc, ConsignError | ValueError) and str(exc):
        return str(exc)
    return format_exception(exc, type_)


def _type_name(cls: object) -> str:
    if cls is Event:
        return "Event"
    return getattr(cls, "__name__", str(cls))


def _sort_key(item: object) -> Any:
    return item.value if isinstance(item, enum.Enum) else item


def make_converter() -> cattrs.Converter:
    """Build a new converter for the domain wire format (see the module docs)."""
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime, _unstructure_datetime)
    converter.register_structure_hook(date, _structure_date)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_unstructure_hook_factory(
        lambda t: getattr(t, "__origin__", None) is frozenset or t is frozenset,
        lambda _t: _unstructure_set(converter),
    )
    _register_event_union(converter)
    return converter


def _unstructure_set(converter: cattrs.Converter) -> Callable[[frozenset[Any]], list[Any]]:
    def hook(value: frozenset[Any]) -> list[Any]:
        return [converter.unstructure(item) for item in sorted(value, key=_sort_key)]

    return hook


def _register_event_union(converter: cattrs.Converter) -> None:
    def unstructure_event(event: Event) -> dict[str, Any]:
        body: dict[str, Any] = converter.unstructure(event, unstructure_as=type(event))
        return {_TAG: event_type_tag(type(event)), **body}

    def structure_event(data: object, _: object) -> Event:
        if not isinstance(data, Mapping):
            msg = f"an event must be an object with a {_TAG!r} key, got {data!r}"
            raise TypeError(msg)
        tag = data.get(_TAG)
        cls = _TAG_TO_EVENT.get(tag) if isinstance(tag, str) else None
        if cls is None:
            known = ", ".join(sorted(_TAG_TO_EVENT))
            msg = f"unknown event type {tag!r}; expected one of: {known}"
            raise ValueError(msg)
        body = {key: value for key, value in data.items() if key != _TAG}
        return converter.structure(body, cls)

    converter.register_unstructure_hook(Event, unstructure_event)
    converter.register_structure_hook(Event, structure_event)


@cache
def _shared() -> cattrs.Converter:
    return make_converter()


def structure(data: object, cls: type[T] | Any, *, converter: cattrs.Converter | None = None) -> T:
    """Build a ``cls`` value from plain data, raising :class:`SerializationError` on bad input.

    The error's message lists every problem with its path, e.g.
    ``invalid value for type, expected int @ $.lines[0].quantity``.
    """
    conv = converter if converter is not None else _shared()
    try:
        result: T = conv.structure(data, cls)
    except (ClassValidationError, IterableValidationError) as exc:
        details = tuple(cattrs.transform_error(exc, path="$", format_exception=_format_problem))
        name = _type_name(cls)
        msg = f"cannot read {name}"
        raise SerializationError(msg, details=details) from exc
    except ForbiddenExtraKeysError as exc:
        name = _type_name(cls)
        msg = f"cannot read {name}: unknown keys {sorted(exc.extra_fields)}"
        raise SerializationError(msg) from exc
    except ConsignError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        name = _type_name(cls)
        msg = f"cannot read {name}: {exc}"
        raise SerializationError(msg) from exc
    return result


def unstructure(value: object, *, converter: cattrs.Converter | None = None) -> Any:
    """Turn a domain value into JSON-ready data (dicts, lists, strings, numbers)."""
    conv = converter if converter is not None else _shared()
    try:
        if isinstance(value, EVENT_TYPES):
            return conv.unstructure(value, unstructure_as=Event)
        return conv.unstructure(value)
    except (TypeError, ValueError, AttributeError) as exc:
        msg = f"cannot write {type(value).__name__}: {exc}"
        raise SerializationError(msg) from exc
