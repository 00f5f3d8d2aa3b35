"""The supplier trust model's pending-order index (the census of a supplier's open orders).

:class:`_PendingIndex` holds the business-microsecond clock (``_bclock``), the index's upkeep
as orders open and close (``_index`` / ``_unindex``) and the per-bin census of a supplier's
pending orders (``_census``) that the lead-time curve rebuild reads. How it works follows.

A supplier's curve censors each pending order placed by the bucket start
``tb`` at its elapsed business hours ``bh(placed_at, tb)``; the curve is rebuilt after every
outcome of that supplier, so with hundreds of open orders a loop over them would dominate
``assess``. Instead each supplier keeps its indexed pending orders sorted by placement, with
their placement on an integer *business-microsecond clock* ``b`` (``bh(_BREF, placed_at)`` in
microseconds, recovered exactly: the calendar computes every business-hours difference as an
integer number of microseconds divided by 3.6e9, so ``bh(x, y)`` is exactly
``(b(y) - b(x)) / 3.6e9``). ``bisect_right(grid, bh(x, tb)) > k`` iff
``b(tb) - b(x) >= _thresholds[k]`` (the least integer whose quotient reaches ``grid[k]``), and
``b`` is non-decreasing in placement time, so the per-bin counts take one bisection per grid edge:
O(grid * log pending) instead of O(pending) business-hours differences, with the same bins.
The counts are kept per supplier for the last bucket they were taken at (``ztb``) and moved by
one when an order placed by ``ztb`` resolves, expires or arrives late, so a rebuild within a
bucket costs O(grid); they are integers, a pure function of the pending orders and ``tb``, so
a restored snapshot recomputes the same ones. A new order waits unclocked in ``fresh`` until
a count at a bucket start after its placement needs it (``observe`` stays free of calendar
calls; an order resolved before that is never clocked); a late one, placed by ``ztb``, is
indexed at once. Orders whose clock cannot be computed exactly (a calendar subclass, a date
outside the calendar's range) stay out of the index and are binned one by one.

With a closed-time weight ``theta > 0`` (``_ModelCore._set_theta``) an order's elapsed time
is ``(1 - theta) * bh + theta * (calendar hours)``, the difference of two places on a mixed
clock ``m = (1 - theta) * b / 3.6e9 + theta * (hours since the epoch)``; each indexed order
keeps its ``m`` (sorted like ``b``), so the census is again one bisection per grid edge; the
orders within rounding of an edge are then decided by the clock's own formula, from the exact
``bh`` and the placement hours, so the bins are those of the one-by-one count, and the
incremental updates use that formula too.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta
from typing import Final

from consign_core.domain.trust._core import _ModelCore
from consign_core.domain.trust._records import _BREF, _EPOCH, _US_PER_HOUR, _Pending, _Sup
from consign_core.errors import ValidationError


__all__ = ["_PendingIndex"]

_NEAR: Final = 1e-6
"""Hours within which the mixed clock's bisection is re-checked by the clock's own formula
(its rounding is some 1e-10 hours; a placement that close to an edge is decided exactly)."""


class _PendingIndex(_ModelCore):
    """The pending-order index: clocking, indexing and censusing a supplier's open orders."""

    def _bclock(self, at: datetime) -> int | None:
        """``at`` on the business-microsecond clock, exactly; None if it cannot be (docstring)."""
        if not self._exact_clock:
            return None
        try:
            f = self._cal_bh(_BREF, at)
        except (ValidationError, OverflowError):
            return None  # outside the calendar's range: binned one by one (and raising) later
        n = round(f * _US_PER_HOUR)  # exact while |n| < 2**51 (about 70 years of hours)
        if n / _US_PER_HOUR != f:  # further out: the quotient still identifies n (+-1)
            n += 1 if (n + 1) / _US_PER_HOUR == f else -1
            if n / _US_PER_HOUR != f:
                return None
        return n

    def _index(self, sup: _Sup, p: _Pending) -> None:
        """Add a new pending order to ``sup``'s index (or count it as loose)."""
        b = p.b
        if b is None:
            sup.loose += 1
            return
        ph = sup.ph
        pb = sup.pb
        t = p.placed_h
        i = bisect_right(ph, t)
        while i and ph[i - 1] == t and pb[i - 1] > b:
            i -= 1
        ph.insert(i, t)
        pb.insert(i, b)
        if self._theta:
            sup.pm.insert(i, self._mix(b, t))
        if t <= sup.ztb and sup.zbt is not None and sup.zv == self._zver:  # a late order, placed
            # by the counted bucket, and counts taken on the current clock
            sup.zc[self._zbin(sup, b, t)] += 1
            sup.zn += 1

    def _unindex(self, sup: _Sup, p: _Pending) -> None:
        """Remove a pending order from ``sup``'s index (O(log n) search, one memmove)."""
        b = p.b
        if b is None:
            sup.loose -= 1
            return
        ph = sup.ph
        pb = sup.pb
        i = bisect_left(ph, p.placed_h)
        while pb[i] != b:  # an equal (placed_h, b) entry is interchangeable
            i += 1
        del ph[i]
        del pb[i]
        if self._theta:
            del sup.pm[i]
        if p.placed_h <= sup.ztb and sup.zbt is not None and sup.zv == self._zver:
            sup.zc[self._zbin(sup, b, p.placed_h)] -= 1
            sup.zn -= 1

    def _zbin(self, sup: _Sup, b: int, placed_h: float) -> int:
        """The census bin at ``sup.ztb`` of an indexed order clocked ``b``, placed at hour
        ``placed_h`` (``sup.zbt`` is not None): the bin the census put it in."""
        zbt = sup.zbt
        assert zbt is not None  # noqa: S101 - checked by the callers
        if not self._theta:
            return bisect_right(self._thresholds, zbt - b)
        business = (zbt - b) / _US_PER_HOUR  # bh(placed_at, census instant), exactly
        return bisect_right(self._grid, business + self._theta * ((sup.zth - placed_h) - business))

    def _mix(self, b: int, hours: float) -> float:
        """A place on the mixed clock: ``(1 - theta) * b / 3.6e9 + theta * hours``."""
        theta = self._theta
        return (1.0 - theta) * (b / _US_PER_HOUR) + theta * hours

    def _remix(self) -> None:
        """After a change of the closed-time weight: re-place every indexed order on the mixed
        clock (O(pending)) and make every census stale: a supplier's next curve re-takes it on
        the new clock, and nothing updates a stale one in between."""
        self._zver += 1
        theta = self._theta
        mix = self._mix
        for sup in self._sups.values():
            if sup.ph:
                sup.pm = [mix(b, h) for h, b in zip(sup.ph, sup.pb, strict=True)] if theta else []

    def _census(self, sup: _Sup, tb: float) -> None:
        """Count ``sup``'s indexed orders placed by ``tb`` per elapsed-time bin (docstring)."""
        tb_clock = self._tb_clock
        if tb_clock[0] != tb:
            at = _EPOCH + timedelta(hours=tb)
            tb_clock = self._tb_clock = (tb, at, self._bclock(at))
        bt = tb_clock[2]
        fresh = sup.fresh
        if sup.fresh_h <= tb:  # clock and index the new orders placed by tb
            sup.ztb = math.nan  # no counts to maintain while indexing
            for oid in [oid for oid, p in fresh.items() if p.placed_h <= tb]:
                p = fresh.pop(oid)
                p.b = self._bclock(p.placed_at)
                self._index(sup, p)
            sup.fresh_h = min([p.placed_h for p in fresh.values()], default=math.inf)
        zc = sup.zc if not sup.zn else [0] * self._n_bins  # zn == 0: zc is all zero
        sup.ztb = tb
        sup.zv = self._zver
        sup.zbt = bt
        sup.zc = zc
        if bt is None:  # no exact clock at tb: every order is binned one by one
            sup.zn = 0
            return
        hi = sup.zn = bisect_right(sup.ph, tb)
        pb = sup.pb
        if self._theta:
            self._census_mixed(sup, tb_clock[1], bt, hi, zc)
            return
        thresholds = self._thresholds
        if hi <= 8:  # few orders: one bisection of the grid each (the same counts)
            for i in range(hi):
                zc[bisect_right(thresholds, bt - pb[i])] += 1
        else:  # one bisection of the orders per grid edge
            j = 0
            for n in thresholds:
                lo = bisect_right(pb, bt - n, 0, hi)  # orders with elapsed >= grid[j]
                if lo != hi:
                    zc[j] = hi - lo
                    hi = lo
                    if not hi:
                        return
                j += 1
            zc[j] = hi

    def _census_mixed(self, sup: _Sup, at: datetime, bt: int, hi: int, zc: list[int]) -> None:
        """The census on the mixed clock (module docstring): one bisection of ``sup.pm`` per
        grid edge, then the orders within rounding of the edge decided by the clock's own
        formula (``_ModelCore._set_theta``), so the bins are the one-by-one count's."""
        theta = self._theta
        th = sup.zth = (at - _EPOCH).total_seconds() / 3600.0
        big_m = self._mix(bt, th)
        pm = sup.pm
        pb = sup.pb
        ph = sup.ph
        j = 0
        for edge in self._grid:
            cut = big_m - edge
            lo = bisect_right(pm, cut, 0, hi)  # orders with elapsed >= grid[j], up to rounding
            while lo and pm[lo - 1] > cut - _NEAR:
                x = (bt - pb[lo - 1]) / _US_PER_HOUR
                if x + theta * ((th - ph[lo - 1]) - x) >= edge:
                    break
                lo -= 1
            while lo < hi and pm[lo] <= cut + _NEAR:
                x = (bt - pb[lo]) / _US_PER_HOUR
                if x + theta * ((th - ph[lo]) - x) < edge:
                    break
                lo += 1
            if lo != hi:
                zc[j] = hi - lo
                hi = lo
                if not hi:
                    return
            j += 1
        zc[j] = hi
