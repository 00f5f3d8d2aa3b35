"""The attrs validators and converters of the rule value types.

Each validator raises :class:`~consign_core.errors.ValidationError` naming the field and the
value (through :func:`consign_core.domain._validators.fail`), never attrs' bare
``TypeError``; the converters turn lists into tuples and integers into floats.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from consign_core.domain._validators import fail


def _enum_of(cls: type[enum.Enum]) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            allowed = ", ".join(repr(member.value) for member in cls)
            fail(instance, attribute, value, f"a {cls.__name__} ({allowed})")

    return check


def _instance_of(cls: type[object]) -> Any:
    # not attrs.validators.instance_of, which raises a bare TypeError
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            fail(instance, attribute, value, f"a {cls.__name__}")

    return check


def _tuple_of(cls: type[object]) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple) or not all(isinstance(item, cls) for item in value):
            fail(instance, attribute, value, f"a sequence of {cls.__name__}")

    return check


def _non_empty_tuple_of(cls: type[object]) -> Any:
    inner = _tuple_of(cls)

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        inner(instance, attribute, value)
        if not value:
            fail(instance, attribute, value, f"a non-empty sequence of {cls.__name__}")

    return check


def _str_tuple(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(item, str) for item in value):
        fail(instance, attribute, value, "a sequence of strings")


def _plain_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        fail(instance, attribute, value, "a string")


def _plain_bool(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        fail(instance, attribute, value, "true or false")


_NAME_RE: Final = re.compile(r"[a-z][a-z0-9_]*")


def _metric_name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        fail(instance, attribute, value, "a lower-case identifier such as 'order_fulfilment'")


def _to_float(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(value, str | bytes | Mapping):
        return (value,) if isinstance(value, str | bytes) else tuple(value)
    try:
        return tuple(value)
    except TypeError:
        return value  # type: ignore[return-value]  # the validator reports it


def _cutoff_hour(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24:
        fail(instance, attribute, value, "None or an integer hour in 1..24 (KST)")


def _finite_number(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, float) or not math.isfinite(value):
        fail(instance, attribute, value, "a finite number")
