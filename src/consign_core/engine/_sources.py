"""The engine's SKU mapping with option codes: ``(supplier_id, item_id, option)`` sources.

:func:`~consign_core.domain.workflow.sources_from` takes ``(supplier_id, item_id)`` pairs and
:class:`~consign_core.domain.workflow.SupplierSource` values; the engine also takes triples
``(supplier_id, item_id, option)``, where ``option`` is the supplier's option code of the item
(Domeme's ``selectOpt`` code) or ``None`` for a single-option item. The workflow decides at
which source an order is placed; the option only travels to the supplier, so the engine keeps
the options beside the sources, index for index, and reads the one of the source chosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from consign_core.domain.workflow._types import SupplierSource
from consign_core.errors import ConfigurationError


__all__ = ["SourceOptions", "option_of", "split_options"]

SourceOptions = dict[str, tuple[str | None, ...]]
"""SKU -> the option code of each of its sources, index for index (``None``: no option)."""


def _is_pair(value: object) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(p, str) for p in value)


def _is_triple(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[0], str)
        and isinstance(value[1], str)
        and (value[2] is None or isinstance(value[2], str))
    )


def _option(sku: str, spec: tuple[Any, ...]) -> str | None:
    option = spec[2]
    if option is not None and not option.strip():
        msg = (
            f"sources[{sku!r}]: the option code of ({spec[0]!r}, {spec[1]!r}) is empty; "
            "write None for an item without options"
        )
        raise ConfigurationError(msg, field="sources", value=sku)
    return option if option is None else option.strip()


def split_options(mapping: Mapping[str, Any]) -> tuple[dict[str, Any], SourceOptions]:
    """``mapping`` with every ``(supplier_id, item_id, option)`` triple turned into its pair
    (for :func:`~consign_core.domain.workflow.sources_from`), and the options of the SKUs that
    have any. Any other shape is passed on unchanged (``sources_from`` judges it)."""
    plain: dict[str, Any] = {}
    options: SourceOptions = {}
    for sku, value in mapping.items():
        if _is_triple(value):
            plain[sku] = value[:2]
            option = _option(sku, value)
            if option is not None:
                options[sku] = (option,)
            continue
        if (
            isinstance(value, SupplierSource)
            or _is_pair(value)
            or not isinstance(value, Sequence)
            or isinstance(value, str)
        ):
            plain[sku] = value
            continue
        specs = list(value)
        found = [_option(sku, spec) if _is_triple(spec) else None for spec in specs]
        plain[sku] = [spec[:2] if _is_triple(spec) else spec for spec in specs]
        if any(option is not None for option in found):
            options[sku] = tuple(found)
    return plain, options


def option_of(
    options: SourceOptions,
    sources: Mapping[str, tuple[SupplierSource, ...]],
    sku: str,
    candidate: int,
    source: tuple[str, str],
) -> str | None:
    """The option code of the source an order of ``sku`` is placed at: the one at index
    ``candidate`` when it is that ``(supplier_id, item_id)``, else the first that is."""
    codes = options.get(sku)
    if codes is None:
        return None
    choices = sources.get(sku, ())
    if 0 <= candidate < len(choices):
        chosen = choices[candidate]
        if (chosen.supplier_id, chosen.item_id) == source:
            return codes[candidate]
    for index, choice in enumerate(choices):
        if (choice.supplier_id, choice.item_id) == source:
            return codes[index]
    return None
