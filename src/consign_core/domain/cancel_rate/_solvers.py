"""Threshold solvers: how many more events of a weight put a metric over a threshold.

A solver answers, in integer arithmetic on the exact fractions of the profile's conditions,
the least ``k`` for which a :class:`~consign_core.domain.rules.Threshold` holds after ``k``
more events; the ledger's headroom and levels come from them.
"""

from __future__ import annotations

from collections.abc import Callable

from consign_core.domain.rules import Combine, Comparison, MetricQuantity, Threshold


# A solver answers: the least k >= 0 such that a threshold holds with numerator n + k * w
# and denominator d (0 = holds now; None = never, e.g. w == 0 and not holding now).
_Solver = Callable[[int, int, int], "int | None"]


def _condition_solver(is_rate: bool, strict: bool, p: int, q: int) -> _Solver:  # noqa: FBT001
    """Solve ``q * (n + k w)  (> if strict else >=)  p * X`` for the least k, X = d or 1.

    For a rate with ``d == 0`` the rate is taken as 0 when ``n == 0`` and +inf when ``n > 0``.
    """
    zero_holds = not strict and p <= 0  # a 0 rate meets ">= p" only for p <= 0

    if is_rate and strict:

        def solve(n: int, d: int, w: int) -> int | None:
            if d == 0:
                return 0 if n > 0 else (1 if w > 0 else None)
            need = p * d - q * n
            if need < 0:
                return 0
            return need // (q * w) + 1 if w > 0 else None

    elif is_rate:

        def solve(n: int, d: int, w: int) -> int | None:
            if d == 0:
                return 0 if n > 0 or zero_holds else (1 if w > 0 else None)
            need = p * d - q * n
            if need <= 0:
                return 0
            return -(-need // (q * w)) if w > 0 else None

    elif strict:

        def solve(n: int, d: int, w: int) -> int | None:  # noqa: ARG001
            need = p - q * n
            if need < 0:
                return 0
            return need // (q * w) + 1 if w > 0 else None

    else:

        def solve(n: int, d: int, w: int) -> int | None:  # noqa: ARG001
            need = p - q * n
            if need <= 0:
                return 0
            return -(-need // (q * w)) if w > 0 else None

    return solve


def _threshold_solver(threshold: Threshold | None) -> _Solver | None:
    """One solver for a whole threshold: ALL -> the max of the conditions' k, ANY -> the min."""
    if threshold is None:
        return None
    solvers: list[_Solver] = []
    for condition in threshold.conditions:
        value = condition.exact_value()
        strict = condition.comparison in {Comparison.ABOVE, Comparison.BELOW}
        if condition.quantity is MetricQuantity.SUCCESS_RATE:
            # 1 - N/D < s  <=>  N/D > 1 - s ;  1 - N/D <= s  <=>  N/D >= 1 - s
            value = 1 - value
        is_rate = condition.quantity is not MetricQuantity.COUNT
        solvers.append(_condition_solver(is_rate, strict, value.numerator, value.denominator))
    if len(solvers) == 1:
        return solvers[0]
    parts = tuple(solvers)
    if threshold.combine is Combine.ALL:

        def solve_all(n: int, d: int, w: int) -> int | None:
            best = 0
            for part in parts:
                k = part(n, d, w)
                if k is None:
                    return None
                best = max(best, k)
            return best

        return solve_all

    def solve_any(n: int, d: int, w: int) -> int | None:
        best: int | None = None
        for part in parts:
            k = part(n, d, w)
            if k is not None and (best is None or k < best):
                best = k
        return best

    return solve_any
