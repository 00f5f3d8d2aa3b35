"""attrs validators that raise the library's own :class:`~consign_core.errors.ValidationError`.

attrs' built-in validators raise ``TypeError``/``ValueError`` with messages of their own; these
name the class, the field and the value, and stay inside the ``ConsignError`` tree.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from consign_core.errors import NaiveDatetimeError, ValidationError


__all__ = [
    "aware_datetime",
    "fail",
    "finite_float",
    "instance_of",
    "int_at_least",
    "member_of",
    "non_empty_str",
    "optional",
    "personal_text",
    "probability",
    "string",
]

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def fail(instance: object, attribute: attrs.Attribute[Any], value: object, expected: str) -> None:
    """Raise a :class:`ValidationError` that names the class, field, expectation and value."""
    owner = type(instance).__name__
    msg = f"{owner}.{attribute.name} must be {expected}, got {value!r}"
    raise ValidationError(msg, field=attribute.name, value=value)


def instance_of(cls: type, what: str | None = None) -> Validator:
    """Require an instance of ``cls`` (for values an adapter builds: a wrong type fails at the
    port boundary with a clear error, not deep inside the engine)."""
    expected = what or f"a {cls.__name__}"

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            fail(instance, attribute, value, expected)

    return check


def _storable(text: str) -> bool:
    """UTF-8 can encode it: no lone surrogate (a JSON ``"\\ud800"`` escape decodes to one,
    and no file or database can store it)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def non_empty_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a non-blank string that UTF-8 can encode."""
    if not isinstance(value, str) or not value.strip():
        fail(instance, attribute, value, "a non-empty string")
    elif not _storable(value):
        fail(instance, attribute, value, "text without lone surrogates")


def string(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a string (empty allowed) that UTF-8 can encode."""
    if not isinstance(value, str):
        fail(instance, attribute, value, "a string")
    elif not _storable(value):
        fail(instance, attribute, value, "text without lone surrogates")


def int_at_least(minimum: int) -> Validator:
    """Require an ``int`` (not a ``bool``) that is ``>= minimum``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            fail(instance, attribute, value, f"an integer >= {minimum}")

    return check


def finite_float(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a finite real number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        fail(instance, attribute, value, "a finite number")


def probability(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a number in [0, 1]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0.0 <= value <= 1.0
    ):
        fail(instance, attribute, value, "a probability in [0, 1]")


def aware_datetime(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Require a timezone-aware :class:`~datetime.datetime`."""
    if not isinstance(value, datetime):
        fail(instance, attribute, value, "a timezone-aware datetime")
    elif value.tzinfo is None or value.utcoffset() is None:
        argument = f"{type(instance).__name__}.{attribute.name}"
        raise NaiveDatetimeError(argument, value)


def member_of(enum_type: type[enum.Enum]) -> Validator:
    """Require a member of ``enum_type`` (not its value: adapters map vendor codes first)."""
    names = ", ".join(m.name for m in enum_type)

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if type(value) is not enum_type:
            fail(instance, attribute, value, f"a {enum_type.__name__} ({names})")

    return check


def optional(inner: Validator) -> Validator:
    """Let ``None`` through, otherwise apply ``inner``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            inner(instance, attribute, value)

    return check


def personal_text(*, required: bool) -> Validator:
    """Require personal text (a buyer's name, phone, address): a string, non-blank if ``required``.

    The error names the class and the field but never the value, since the value is personal
    data; the exception's ``value`` is ``None`` for the same reason.
    """

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        owner = type(instance).__name__
        if not isinstance(value, str):
            expected = "a string"
        elif required and not value.strip():
            expected = "a non-empty string"
        elif not _storable(value):
            expected = "text without lone surrogates"
        else:
            return
        msg = f"{owner}.{attribute.name} must be {expected} (the value is personal data: not shown)"
        raise ValidationError(msg, field=attribute.name, value=None)

    return check
