"""Domeme courier codes (``delivery.company``, ``setOrdOkDeli deliCompany``) as data."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from consign_core.domain.model import Courier


__all__ = [
    "DOMEME_COURIERS",
    "courier_from_domeme",
    "courier_to_domeme",
]

DOMEME_COURIERS: Mapping[str, Courier] = MappingProxyType(
    {
        "DAEHAN": Courier.CJ,
        "HANJIN": Courier.HANJIN,
        "HYUNDAI": Courier.LOTTE,
        "KGBL": Courier.LOGEN,
        "EPOST": Courier.EPOST,
        "ILYANG": Courier.ILYANG,
        "CVSNET": Courier.CVS,
        "KYUNGDONG": Courier.KYUNGDONG,
        "DAESIN": Courier.DAESIN,
        "CHUNIL": Courier.CHUNIL,
        "HDEXP": Courier.HAPDONG,
        "CU": Courier.CU,
    }
)
"""Domeme courier code -> the canonical courier: ``DAEHAN`` is CJ대한통운, ``HYUNDAI`` is
롯데택배, ``KGBL`` is 로젠택배, ``HDEXP`` is 합동택배. Codes without a canonical courier
(``HOMEPICK``, ``NEXTMILE``...) are not in the table."""

_TO_DOMEME: Mapping[Courier, str] = MappingProxyType({v: k for k, v in DOMEME_COURIERS.items()})


def courier_from_domeme(code: str) -> Courier | None:
    """The canonical courier of a Domeme code (case and spaces ignored); ``None`` if unknown."""
    return DOMEME_COURIERS.get(code.strip().upper())


def courier_to_domeme(courier: Courier) -> str | None:
    """The Domeme code of a canonical courier; ``None`` if Domeme has none."""
    return _TO_DOMEME.get(courier)
