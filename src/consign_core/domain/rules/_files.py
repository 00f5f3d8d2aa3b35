"""Profiles as files: :func:`dump_profile`, :func:`parse_profile` and :func:`load_profile`.

JSON through the domain converter, TOML read with :mod:`tomllib` (``tomli`` on Python 3.10)
and written by a small writer of its own (the standard library has none).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any, Final

from consign_core.domain.rules._profile import RuleProfile
from consign_core.domain.serialization import structure, unstructure
from consign_core.errors import ConfigurationError, ConsignError


def dump_profile(profile: RuleProfile, format: str = "json") -> str:  # noqa: A002
    """Serialise ``profile`` as JSON (indented) or TOML text.

    ``load_profile(dump_profile(p, f))`` (or :func:`parse_profile`) gives back ``p`` exactly.
    TOML has no null: fields that are ``None`` are left out (they default to ``None``).
    """
    data = unstructure(profile)
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if format == "toml":
        return _toml_document(data)
    msg = f"format must be 'json' or 'toml', got {format!r}"
    raise ConfigurationError(msg)


def parse_profile(text: str, format: str | None = None) -> RuleProfile:  # noqa: A002
    """Read a profile from JSON or TOML ``text`` (format guessed from a leading ``{``).

    Unknown keys, bad values and syntax errors raise
    :class:`~consign_core.errors.ConfigurationError` naming the key or line.
    """
    return _parse(text, format, "text")


def load_profile(
    source: str | os.PathLike[str],
    format: str | None = None,  # noqa: A002
) -> RuleProfile:
    """Read a profile from a file path, or from JSON/TOML text.

    A :class:`os.PathLike` is always a path. A ``str`` is treated as text when it contains a
    newline or starts with ``{``, otherwise as a path. The format comes from ``format``, else
    the file suffix (``.json``/``.toml``), else the content. TOML needs :mod:`tomllib`
    (Python 3.11+) or the ``tomli`` package on 3.10.
    """
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
        return _parse(source, format, "text")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read rule profile file {str(path)!r}: {exc.strerror or exc}"
        raise ConfigurationError(msg) from exc
    if format is None and path.suffix.lower() in {".json", ".toml"}:
        format = "json" if path.suffix.lower() == ".json" else "toml"  # noqa: A001
    return _parse(text, format, repr(str(path)))


def _parse(text: str, format: str | None, where: str) -> RuleProfile:  # noqa: A002
    if format is None:
        format = "json" if text.lstrip().startswith("{") else "toml"  # noqa: A001
    data: object
    if format == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"rule profile {where} is not valid JSON: {exc}"
            raise ConfigurationError(msg) from exc
    elif format == "toml":
        data = _toml_loads(text, where)
    else:
        msg = f"format must be 'json' or 'toml', got {format!r}"
        raise ConfigurationError(msg)
    try:
        profile: RuleProfile = structure(data, RuleProfile)
    except ConsignError as exc:
        msg = f"invalid rule profile {where}: {exc}"
        raise ConfigurationError(msg) from exc
    return profile


def _toml_module() -> Any:
    name = "tomllib" if sys.version_info >= (3, 11) else "tomli"
    try:
        return importlib.import_module(name)
    except ImportError:
        msg = (
            "reading a TOML rule profile on Python 3.10 needs the 'tomli' package "
            "(pip install tomli), or use JSON"
        )
        raise ConfigurationError(msg) from None


def _toml_loads(text: str, where: str) -> object:
    toml = _toml_module()
    try:
        data: object = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        msg = f"rule profile {where} is not valid TOML: {exc}"
        raise ConfigurationError(msg) from exc
    return data


_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_string(value: str) -> str:
    out = ['"']
    for char in value:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _toml_float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    return text if any(c in text for c in ".en") else text + ".0"


def _toml_scalar(value: object) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = _toml_float(value)
    elif isinstance(value, str):
        text = _toml_string(value)
    elif isinstance(value, list):
        text = "[" + ", ".join(_toml_scalar(item) for item in value) + "]"
    else:
        msg = f"cannot write {value!r} as a TOML value"
        raise ConfigurationError(msg)
    return text


def _is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _toml_table(path: list[str], table: dict[str, Any], header: str | None, out: list[str]) -> None:
    if header is not None:
        if out:
            out.append("")
        out.append(header)
    nested: list[tuple[str, Any]] = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict) or _is_table_array(value):
            nested.append((key, value))
        else:
            if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
                msg = f"cannot write nested list {key!r} as TOML"
                raise ConfigurationError(msg)
            out.append(f"{_toml_key(key)} = {_toml_scalar(value)}")
    for key, value in nested:
        sub = [*path, _toml_key(key)]
        if isinstance(value, dict):
            _toml_table(sub, value, "[" + ".".join(sub) + "]", out)
        else:
            for item in value:
                _toml_table(sub, item, "[[" + ".".join(sub) + "]]", out)


def _toml_document(data: dict[str, Any]) -> str:
    out: list[str] = []
    _toml_table([], data, None, out)
    return "\n".join(out) + "\n"
