"""Text output of the ``consign-core`` command: progress on stderr, tables, numbers, JSON.

Tables and the progress bar are drawn by rich, which measures text by its display width, so
a Hangul supplier name (two columns a syllable) stays aligned with ``A1``. On a terminal a
table has bold headings and a rule under them, and a long run shows a progress bar on
stderr. Piped to a file or another program, a table is plain text (headings, a line of
dashes, the rows; columns two spaces apart, no colour or box-drawing characters) and no
progress is shown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TextIO

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from consign_core.cli._args import _PROG


_clock = time.monotonic  # progress reporting only (the one clock read of the policy lab)

_PROGRESS_DELAY = 2.0
"""Seconds a run goes before its progress bar appears (short runs show none)."""

_PIPE_WIDTH = 100_000
"""The width of a console that is not a terminal: a piped table is never wrapped."""


def _console(stream: TextIO) -> Console:
    """The rich console that writes to ``stream`` (made by :data:`_console_factory`)."""
    return _console_factory(stream)


def _stream_console(stream: TextIO) -> Console:
    """A terminal's width and styles when ``stream`` is a terminal, else plain and unwrapped."""
    terminal = stream.isatty()
    return Console(
        file=stream,
        width=None if terminal else _PIPE_WIDTH,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )


_console_factory: Callable[[TextIO], Console] = _stream_console
"""Makes the console of a stream; tests set it to see what a terminal gets
(``Console(file=stream, force_terminal=True, width=...)``)."""


class _Progress:
    """A progress bar on stderr for a run that lasts more than a moment, on a terminal only.

    ``progress(done, total)`` is the callback of the lab's long runs; nothing is drawn in the
    first seconds, nor at all when ``enabled`` is false (``--quiet``) or the console is not a
    terminal. Use it as a context manager: the bar is taken down whatever happens, and
    ``done in ... s`` is written after a bar that was shown, when the run succeeded.
    """

    def __init__(self, label: str, console: Console, *, enabled: bool) -> None:
        self.label = label
        self.console = console
        self.enabled = enabled and console.is_terminal
        self.start = _clock()
        self.shown = False
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            if _clock() - self.start < _PROGRESS_DELAY:
                return
            self._bar = Progress(
                TextColumn(f"{_PROG}: {self.label}"),
                BarColumn(),
                TaskProgressColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._task = self._bar.add_task(self.label, total=total)
            self._bar.start()
            self.shown = True
        assert self._task is not None  # noqa: S101 - set with the bar
        self._bar.update(self._task, completed=done, total=total)

    def finish(self) -> None:
        """Take the bar down and, after a bar that was shown, say how long the run took."""
        self.close()
        if self.shown:
            elapsed = _clock() - self.start
            self.console.print(Text(f"{_PROG}: {self.label} done in {elapsed:.1f} s"))

    def close(self) -> None:
        """Take the bar down (if it is up), saying nothing."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> _Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.close()


class _Dashes:
    """A cell of dashes as wide as its column (the line under a plain table's headings)."""

    def __rich_console__(self, _console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text("-" * options.max_width, end="")

    def __rich_measure__(self, _console: Console, _options: ConsoleOptions) -> Measurement:
        return Measurement(1, 1)  # never widens the column: the headings and cells set it


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int], console: Console
) -> str:
    """``rows`` under ``headers`` as ``console`` shows them; the columns in ``right`` (by index)
    are right-aligned (numbers). Widths are display widths (Hangul counts two columns).

    On a terminal: bold headings and a rule under them. Otherwise plain text without trailing
    spaces: the headings, a line of dashes the width of each column, the rows.
    """
    terminal = console.is_terminal
    table = Table(
        box=box.SIMPLE_HEAD if terminal else None,
        show_edge=False,
        pad_edge=False,
        # two columns between cells: a space each side (plain), or one and the rule's divider
        padding=(0, 1, 0, 0) if terminal else (0, 1),
        header_style="bold" if terminal else "",
        highlight=False,
    )
    for i, header in enumerate(headers):
        # a narrow terminal folds a cell rather than cut it short: every character stays
        table.add_column(Text(header), justify="right" if i in right else "left", overflow="fold")
    if not terminal:
        table.add_row(*(_Dashes() for _ in headers))
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    with console.capture() as captured:
        console.print(table)
    text = captured.get()
    lines = text.splitlines()
    if not terminal:
        lines = [line.rstrip() for line in lines]
    while lines and not lines[-1].strip():
        lines.pop()
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
