"""Ledger snapshots: the full state out as values or JSON-ready data, and back in.

:class:`_LedgerSnapshots` adds to the core the three conversions behind
:meth:`Ledger.snapshot`, :meth:`Ledger.snapshot_data` and :meth:`Ledger.from_snapshot`:
windows, remembered orders and pending checks to :class:`LedgerState` (or the dicts
``unstructure`` would give), and a state back into a new ledger.
"""

from __future__ import annotations

import heapq
from collections import deque
from datetime import datetime
from typing import Any

from consign_core.domain.cancel_rate._core import _LedgerCore
from consign_core.domain.cancel_rate._state import (
    LedgerState,
    MetricWindow,
    OrderRecord,
    PendingCheck,
    WindowEntry,
)
from consign_core.domain.cancel_rate._time import _EPOCH, _MIN_DT, _NEVER, _START, _US, _dt, _ticks
from consign_core.domain.cancel_rate._windows import _Order
from consign_core.domain.model import OrderRef
from consign_core.domain.serialization import unstructure
from consign_core.errors import ConfigurationError


class _LedgerSnapshots(_LedgerCore):
    """A ledger's snapshots: its full state as values or as JSON-ready data, and back."""

    __slots__ = ()

    def _snapshot(self) -> LedgerState:
        """The state as :class:`LedgerState` (see :meth:`Ledger.snapshot`)."""

        def entries(q: deque[tuple[int, int]]) -> tuple[WindowEntry, ...]:
            return tuple(WindowEntry(at=_dt(t), amount=a) for t, a in q)

        def opt(t: int | None) -> datetime | None:
            return None if t is None else _dt(t)

        now = None if self._now_dt is _MIN_DT else self._now_dt
        limit = _START
        if now is not None:
            t: int = (now - _EPOCH) // _US
            self._purge(t)
            limit = t - self._retention

        return LedgerState(
            profile=self._profile,
            now=now,
            metrics=tuple(
                MetricWindow(
                    name=m.spec.name,
                    numerator=entries(m.num),
                    suspended=entries(m.sus),
                    denominator=entries(m.den),
                )
                for m in self._metrics
            ),
            orders=tuple(
                OrderRecord(
                    ref=rec.ref,
                    paid_at=_dt(rec.paid),
                    ship_by=_dt(rec.deadline),
                    lines=rec.amounts[1],
                    units=rec.amounts[2],
                    shipped_at=opt(rec.shipped),
                    cancelled_at=opt(rec.cancelled),
                    pending_checks=rec.pending,
                    aged=rec.paid <= limit,
                )
                for rec in self._orders.values()
            ),
            pending=tuple(
                PendingCheck(at=_dt(b), stage=stage, deadline=_dt(d), ref=rec.ref)
                for b in sorted(self._buckets)
                for rec, stage, d in self._buckets[b]
            ),
        )

    def _snapshot_data(self) -> dict[str, Any]:
        """The state as JSON-ready data (see :meth:`Ledger.snapshot_data`)."""
        now = None if self._now_dt is _MIN_DT else self._now_dt
        limit = _START
        if now is not None:
            t: int = (now - _EPOCH) // _US
            self._purge(t)
            limit = t - self._retention
        iso: dict[int, str] = {}

        def text(ticks: int) -> str:
            found = iso.get(ticks)
            if found is None:
                found = iso[ticks] = _dt(ticks).isoformat()
            return found

        def entries(q: deque[tuple[int, int]]) -> list[dict[str, Any]]:
            return [{"at": text(at), "amount": amount} for at, amount in q]

        def ref_data(ref: OrderRef) -> dict[str, str]:
            return {"market": ref.market, "order_id": ref.order_id}

        orders = [
            {
                "ref": ref_data(rec.ref),
                "paid_at": text(rec.paid),
                "ship_by": text(rec.deadline),
                "lines": rec.amounts[1],
                "units": rec.amounts[2],
                "shipped_at": None if rec.shipped is None else text(rec.shipped),
                "cancelled_at": None if rec.cancelled is None else text(rec.cancelled),
                "pending_checks": rec.pending,
                "aged": rec.paid <= limit,
            }
            for rec in self._orders.values()
        ]
        pending = []
        for b in sorted(self._buckets):
            at = text(b)
            pending += [
                {"at": at, "stage": stage, "deadline": text(d), "ref": ref_data(rec.ref)}
                for rec, stage, d in self._buckets[b]
            ]
        return {
            "profile": unstructure(self._profile),
            "now": None if now is None else now.isoformat(),
            "metrics": [
                {
                    "name": m.spec.name,
                    "numerator": entries(m.num),
                    "suspended": entries(m.sus),
                    "denominator": entries(m.den),
                }
                for m in self._metrics
            ],
            "orders": orders,
            "pending": pending,
        }

    def _restore(self, state: LedgerState) -> None:
        """Fill this new, empty ledger (built from ``state.profile``) with ``state``."""
        names = [m.spec.name for m in self._metrics]
        if [window.name for window in state.metrics] != names:
            msg = (
                f"snapshot metrics {[w.name for w in state.metrics]!r} do not match the "
                f"profile's {names!r}"
            )
            raise ConfigurationError(msg)
        for m, window in zip(self._metrics, state.metrics, strict=True):
            for q, src in (
                (m.num, window.numerator),
                (m.sus, window.suspended),
                (m.den, window.denominator),
            ):
                q.extend((_ticks(e.at, "at"), e.amount) for e in src)
                if q:
                    self._wake_for(m, q[0][0])
            m.num_sum = sum(a for _, a in m.num)
            m.sus_sum = sum(a for _, a in m.sus)
            m.den_sum = sum(a for _, a in m.den)
        for record in state.orders:
            rec = _Order(
                record.ref,
                _ticks(record.paid_at, "paid_at"),
                _ticks(record.ship_by, "ship_by"),
                (1, record.lines, record.units),
            )
            rec.shipped = None if record.shipped_at is None else _ticks(record.shipped_at, "at")
            rec.cancelled = (
                None if record.cancelled_at is None else _ticks(record.cancelled_at, "at")
            )
            rec.pending = record.pending_checks
            self._orders[rec.ref.order_id] = rec
            if record.aged:
                self._waiting.append(rec)
            else:
                self._paid_q.append(rec)
        if self._orders and state.now is not None:
            # purge (a no-op) at the first event or query
            self._forget_at = _ticks(state.now, "state.now")
        for check in state.pending:
            found = self._orders.get(check.ref.order_id)
            if found is None:
                msg = f"snapshot has a pending check for unknown order {check.ref}"
                raise ConfigurationError(msg)
            booked = _ticks(check.at, "at")
            bucket = self._buckets.setdefault(booked, [])
            if not bucket:
                self._heap.append(booked)
            bucket.append((found, check.stage, _ticks(check.deadline, "deadline")))
        heapq.heapify(self._heap)
        self._lower_wake(
            min(self._heap[0] if self._heap else _NEVER, self._expire_at, self._forget_at)
        )
        if state.now is not None:
            self._now_t = _ticks(state.now, "state.now")
            self._now_dt = state.now
