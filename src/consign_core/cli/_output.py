"""Text output of the ``consign-core`` command: progress on stderr, tables, numbers, JSON."""

import json
import time
from collections.abc import Sequence
from typing import Any, TextIO

from consign_core.cli._args import _PROG


_clock = time.monotonic  # progress reporting only (the one clock read of the policy lab)


class _Progress:
    """Progress on stderr: nothing for the first seconds, then a line every few seconds."""

    def __init__(self, label: str, stream: TextIO, *, enabled: bool) -> None:
        self.label = label
        self.stream = stream
        self.enabled = enabled
        self.start = _clock()
        self.last = self.start
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = _clock()
        if now - self.start < 2.0 or now - self.last < 2.0:
            return
        self.last = now
        self.shown = True
        pct = 100.0 * done / total if total else 100.0
        self.stream.write(
            f"{_PROG}: {self.label} {pct:3.0f}% ({done:,}/{total:,}), {now - self.start:.0f} s\n"
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.shown:
            elapsed = _clock() - self.start
            self.stream.write(f"{_PROG}: {self.label} done in {elapsed:.1f} s\n")
            self.stream.flush()


# --------------------------------------------------------------------------------------
# argument parsing
# --------------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def fmt(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    lines = [fmt(headers), fmt(["-" * w for w in widths])]
    lines.extend(fmt(row) for row in rows)
    return "\n".join(lines)


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _pct(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.{digits}f}%"


def _count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _dump(document: Any, out: TextIO) -> None:
    out.write(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False))
    out.write("\n")
