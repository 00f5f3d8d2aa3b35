"""The supplier trust model's internal records, constants and small helpers.

The mutable per-order, per-supplier and population records (:class:`_Pending`, :class:`_Sup`,
:class:`_Pop`): plain ``__slots__`` classes mutated in place, so that observing an event costs
O(1) and assessing an order a few microseconds (only the public values of
``consign_core.domain.trust._types`` are attrs classes); the constants the model's layers share
(the epoch and the business-microsecond clock, the re-basing limit, the quantity-exponent cell
grid, the tiers); the time helpers (hours since the epoch, the aware-datetime check) and the
grid-edge thresholds of the pending-order index (see ``consign_core.domain.trust._index``).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Final

from consign_core.domain.calendar import require_aware
from consign_core.domain.model import CancelReason, SupplierSignals
from consign_core.domain.trust._math import Curve
from consign_core.domain.trust._types import TrustConfig, TrustTier


__all__ = [
    "_BREF",
    "_DEFAULT_CONFIG",
    "_EPOCH",
    "_LN2",
    "_L_BINS",
    "_L_LOW",
    "_L_STEP",
    "_MAX_LOG_MULT",
    "_N_CELLS",
    "_QUARANTINED",
    "_REBASE_EXPONENT",
    "_RISKY",
    "_STOCK_OUT",
    "_TRUSTED",
    "_UNPROVEN",
    "_US_PER_HOUR",
    "_X_BINS",
    "_X_STEP",
    "_Pending",
    "_Pop",
    "_Sup",
    "_check_aware",
    "_hours",
    "_threshold",
]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LN2: Final = math.log(2.0)
_REBASE_EXPONENT: Final = 40.0
"""Scaled counts are re-based once their scale factor reaches e**40 (about 58 half-lives)."""
_MAX_LOG_MULT: Final = 700.0
"""Cap of a quantity odds multiplier's log (exp overflows past 709; no real order gets near)."""
_STOCK_OUT: Final = CancelReason.STOCK_OUT
_DEFAULT_CONFIG: Final = TrustConfig()
_QUARANTINED: Final = TrustTier.QUARANTINED
_RISKY: Final = TrustTier.RISKY
_TRUSTED: Final = TrustTier.TRUSTED
_UNPROVEN: Final = TrustTier.UNPROVEN
_US_PER_HOUR: Final = 3_600_000_000
"""The calendar's business-hours unit: ``bh`` returns integer microseconds / 3.6e9."""
_BREF: Final = datetime(2024, 1, 1, tzinfo=timezone.utc)
"""Origin of the business-microsecond clock (any instant works: only differences are used)."""

# quantity-exponent cells: x = log(q / (factor * usual)) > 0 in steps of 0.25 over [0, 4)
# (16 bins), base logit in steps of 0.5 over [-8, 2) (20 bins); each cell holds
# (weight, cancels, sum x, sum logit)
_X_STEP: Final = 0.25
_X_BINS: Final = 16
_L_LOW: Final = -8.0
_L_STEP: Final = 0.5
_L_BINS: Final = 20
_N_CELLS: Final = _X_BINS * _L_BINS


def _hours(value: datetime, argument: str) -> float:
    """Hours since 1970-01-01 UTC of an aware datetime (NaiveDatetimeError naming argument)."""
    try:
        return (value - _EPOCH).total_seconds() / 3600.0
    except TypeError:
        require_aware(value, argument)
        raise


def _check_aware(value: object, argument: str) -> None:
    if type(value) is not datetime or value.tzinfo is None:
        require_aware(value, argument)  # type: ignore[arg-type]


def _threshold(edge: float) -> int:
    """The least integer ``n`` with ``n / 3.6e9 >= edge`` (as the calendar's float division)."""
    n = math.ceil(edge * _US_PER_HOUR)
    while n / _US_PER_HOUR < edge:
        n += 1
    while (n - 1) / _US_PER_HOUR >= edge:
        n -= 1
    return n


class _Pending:
    """An open supplier order."""

    __slots__ = ("b", "confirmed", "exceeded", "item_id", "placed_at", "placed_h", "qty")

    def __init__(  # noqa: PLR0917 - positional on the hot path of observe()
        self,
        placed_at: datetime,
        placed_h: float,
        qty: int,
        item_id: str,
        exceeded: bool,  # noqa: FBT001
        confirmed: bool = False,  # noqa: FBT001, FBT002
    ) -> None:
        self.placed_at = placed_at
        self.placed_h = placed_h
        self.qty = qty
        self.item_id = item_id
        self.exceeded = exceeded
        self.confirmed = confirmed
        self.b: int | None = None  # placement on the business-microsecond clock, once indexed


class _Sup:
    """Mutable per-supplier state (see SupplierTrustState for the meaning of each count)."""

    __slots__ = (
        "a0",
        "b0",
        "c",
        "clean",
        "cr",
        "curve",
        "done",
        "fresh",
        "fresh_h",
        "head",
        "head_key",
        "k",
        "lc",
        "lead_n",
        "loose",
        "ls",
        "lz",
        "pb",
        "pending",
        "ph",
        "pm",
        "prior_ver",
        "qls",
        "quarantined",
        "qw",
        "ref",
        "shift",
        "signals",
        "so",
        "so_hours",
        "stock",
        "ver",
        "zbt",
        "zc",
        "zn",
        "ztb",
        "zth",
        "zv",
    )

    def __init__(self, ref: float, n_bins: int) -> None:
        self.signals: SupplierSignals | None = None
        self.shift = 0.0
        self.ref = ref
        self.c = 0.0
        self.k = 0.0
        self.so = 0.0
        self.qw = 0.0
        self.qls = 0.0
        self.cr = 0.0
        self.ls = [0.0] * n_bins
        self.lc = [0.0] * n_bins
        self.lz = [0.0] * n_bins
        self.lead_n = 0
        self.pending: dict[str, _Pending] = {}
        # the pending-order index (module docstring): placement hours and business-microsecond
        # clock of the indexed pending orders, sorted by (ph, pb), so each list is sorted
        self.ph: list[float] = []
        self.pb: list[int] = []
        # with a closed-time weight theta > 0: each indexed order's place on the mixed clock,
        # m = (1 - theta) * pb / 3.6e9 + theta * ph (also sorted; empty while theta is 0),
        # and the census instant in hours since the epoch (zth)
        self.pm: list[float] = []
        self.zth = math.nan
        self.zv = 0  # the model's clock version (_zver) the counts were taken on
        self.loose = 0  # pending orders outside the index (b is None) and not fresh
        self.fresh: dict[str, _Pending] = {}  # pending orders not clocked yet
        self.fresh_h = math.inf  # a lower bound of their placement hours
        # censored counts per bin of the indexed orders placed by ztb, zbt = b(ztb) (None:
        # no exact clock at ztb, zc all zero), zn = sum(zc); ztb = nan: not taken yet
        self.ztb = math.nan
        self.zbt: int | None = None
        self.zc = [0] * n_bins
        self.zn = 0
        self.done: OrderedDict[str, bool] = OrderedDict()
        self.stock: dict[str, tuple[int, datetime, float]] = {}
        self.so_hours: list[float] = []
        self.quarantined = False
        self.clean = 0
        self.ver = 0
        self.prior_ver = -1
        self.a0 = 0.0
        self.b0 = 0.0
        self.curve: Curve | None = None
        self.head = ""
        self.head_key: tuple[int, int, int] | None = None


class _Pop:
    """Mutable population state."""

    __slots__ = (
        "cells",
        "closed_n",
        "closed_x",
        "curve",
        "fitted",
        "hc",
        "hs",
        "k",
        "large",
        "lc",
        "lead_data",
        "logq",
        "ls",
        "lz",
        "mu",
        "open_n",
        "open_x",
        "ref",
        "strength",
        "theta",
        "ver",
    )

    def __init__(self, cfg: TrustConfig, n_bins: int) -> None:
        self.mu = cfg.default_cancel_rate
        self.strength = cfg.default_prior_strength
        self.fitted = 0
        self.logq = 0.0
        self.large = 0.0
        self.k = cfg.quantity_k_default
        self.cells = [0.0] * (4 * _N_CELLS)
        self.ref = 0.0
        self.ls = [0.0] * n_bins
        self.lc = [0.0] * n_bins
        self.lz = [0.0] * n_bins
        self.hs: list[float] = []
        self.hc: list[float] = []
        self.lead_data = 0.0
        # the closed-time weight theta (see _ModelCore._tau) and the decayed counts it is
        # fitted from: invoices registered in open / closed hours of the calendar, and the
        # hours orders spent pending in each (scaled units, like ls / lc / lz)
        self.theta = 0.0
        self.open_n = 0.0
        self.closed_n = 0.0
        self.open_x = 0.0
        self.closed_x = 0.0
        self.ver = 0
        self.curve: Curve | None = None
