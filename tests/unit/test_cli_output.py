"""The command's text helpers: rich tables measured by display width, the progress bar, numbers.

A Hangul syllable takes two terminal columns; every alignment check here is in display columns
(rich's ``cell_len``), never in characters.
"""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from consign_core.cli import _output
from consign_core.cli._output import (
    _PROGRESS_DELAY,
    _console,
    _count,
    _num,
    _pct,
    _Progress,
    _stream_console,
    _table,
)


def plain_console() -> Console:
    return _stream_console(io.StringIO())  # a StringIO is not a terminal: the piped console


def terminal_console(width: int = 120, stream: io.StringIO | None = None) -> Console:
    return Console(file=stream or io.StringIO(), force_terminal=True, width=width)


_CELL_CHARS = st.one_of(
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),  # Hangul syllables
    st.sampled_from("AZaz09%.-_"),
)
CELLS = st.text(_CELL_CHARS, min_size=1, max_size=8)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]], set[int]]:
    columns = draw(st.integers(1, 5))
    headers = draw(st.lists(CELLS, min_size=columns, max_size=columns))
    rows = draw(
        st.lists(st.lists(CELLS, min_size=columns, max_size=columns), min_size=0, max_size=6)
    )
    right = draw(st.sets(st.integers(0, columns - 1)))
    return headers, rows, right


def display_spans(line: str, cells: list[str]) -> list[tuple[int, int]]:
    """(start, end) display columns of each cell of ``line``, found left to right."""
    spans = []
    at = 0
    for cell in cells:
        index = line.index(cell, at)
        spans.append((cell_len(line[:index]), cell_len(line[: index + len(cell)])))
        at = index + len(cell)
    return spans


# ---------------------------------------------------------------------------- tables


@settings(max_examples=60, deadline=None)
@given(tables())
def test_a_plain_table_aligns_cells_by_display_width(
    table: tuple[list[str], list[list[str]], set[int]],
) -> None:
    headers, rows, right = table
    text = _table(headers, rows, right, plain_console())
    lines = text.split("\n")
    assert len(lines) == len(rows) + 2  # headings, dashes, one line a row
    dash_runs = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[1])]
    assert len(dash_runs) == len(headers)
    for i, (start, end) in enumerate(dash_runs):
        assert end - start == max(cell_len(r[i]) for r in [headers, *rows])  # the widest cell
    for i in range(1, len(dash_runs)):
        assert dash_runs[i][0] - dash_runs[i - 1][1] == 2  # two spaces between columns
    for line, cells in zip([lines[0], *lines[2:]], [headers, *rows], strict=True):
        assert line == line.rstrip()
        assert "\x1b" not in line
        for i, (start, end) in enumerate(display_spans(line, cells)):
            column_start, column_end = dash_runs[i]
            if i in right:
                assert end == column_end
            else:
                assert start == column_start


def test_a_plain_table_with_a_hangul_name_is_wider_by_its_display_width() -> None:
    rows = [["한빛상사", "1"], ["A1", "22"]]
    text = _table(["supplier", "orders"], rows, {1}, plain_console())
    lines = text.split("\n")
    assert [cell_len(line) for line in lines] == [cell_len(lines[1])] * 4
    assert cell_len("한빛상사") == 8 == len(lines[1].split()[0])  # dashes as wide as its name


def test_a_table_shows_brackets_and_colons_as_written() -> None:
    rows = [["[bold]S1[/bold]", ":smile:"]]
    for console in (plain_console(), terminal_console()):
        plain = Text.from_ansi(_table(["id", "note"], rows, set(), console)).plain
        assert "[bold]S1[/bold]" in plain
        assert ":smile:" in plain


@settings(max_examples=30, deadline=None)
@given(tables(), st.integers(100, 200))  # wide enough for any table drawn: nothing folds
def test_a_terminal_table_is_styled_and_aligned_by_display_width(
    table: tuple[list[str], list[list[str]], set[int]], width: int
) -> None:
    headers, rows, right = table
    text = _table(headers, rows, right, terminal_console(width))
    assert "\x1b[1m" in text  # bold headings
    lines = Text.from_ansi(text).plain.split("\n")
    assert set(lines[1]) == {"─"}  # the rule under the headings
    assert len(lines) == len(rows) + 2
    spans = [display_spans(line, cells) for line, cells in zip(lines[2:], rows, strict=True)]
    for i in range(len(headers)):
        edges = {s[i][1] if i in right else s[i][0] for s in spans}
        assert len(edges) <= 1, (i, edges, lines)


def test_a_narrow_terminal_folds_cells_and_keeps_every_character() -> None:
    rows = [["한빛상사대한물산유통", "unproven", "12.4%"]]
    text = _table(["supplier", "tier", "risk"], rows, {2}, terminal_console(width=16))
    plain = Text.from_ansi(text).plain
    assert "…" not in plain
    assert all(cell_len(line) <= 16 for line in plain.split("\n"))
    squeezed = "".join(plain.split())
    for cell in rows[0]:
        for char in cell:
            assert char in squeezed


def test_the_stream_console_is_plain_unless_the_stream_is_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    piped = _stream_console(io.StringIO())
    assert not piped.is_terminal
    assert piped.width >= 10_000  # a piped table never wraps
    assert _stream_console(Tty()).is_terminal


def test_the_console_factory_can_be_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    made = terminal_console()
    monkeypatch.setattr(_output, "_console_factory", lambda _stream: made)
    assert _console(io.StringIO()) is made


# ---------------------------------------------------------------------------- progress


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A clock the test moves: ``clock[0]`` is the time ``_clock()`` returns."""
    now = [0.0]
    monkeypatch.setattr(_output, "_clock", lambda: now[0])
    return now


def test_progress_draws_a_bar_on_a_terminal_after_a_moment(clock: list[float]) -> None:
    stream = io.StringIO()
    with _Progress("backtest", terminal_console(stream=stream), enabled=True) as progress:
        progress(10, 200)  # at once: nothing yet
        assert stream.getvalue() == ""
        clock[0] = _PROGRESS_DELAY + 1.0
        progress(100, 200)
        clock[0] = _PROGRESS_DELAY + 2.5
        progress(200, 200)
    shown = Text.from_ansi(stream.getvalue()).plain
    assert "consign-core: backtest" in shown
    assert "200/200" in shown
    assert "100%" in shown
    assert shown.rstrip().endswith(f"backtest done in {_PROGRESS_DELAY + 2.5:.1f} s")


def test_a_short_run_shows_no_progress(clock: list[float]) -> None:
    stream = io.StringIO()
    with _Progress("simulate", terminal_console(stream=stream), enabled=True) as progress:
        progress(50, 100)
        clock[0] = _PROGRESS_DELAY / 2
        progress(100, 100)
    assert stream.getvalue() == ""


@pytest.mark.parametrize("terminal", [False, True])
def test_progress_is_silent_when_piped_or_disabled(clock: list[float], terminal: bool) -> None:
    stream = io.StringIO()
    console = terminal_console(stream=stream) if terminal else _stream_console(stream)
    with _Progress("simulate", console, enabled=not terminal) as progress:  # piped, or --quiet
        for step in range(1, 6):
            clock[0] = 10.0 * step
            progress(step, 5)
    assert stream.getvalue() == ""


def test_progress_after_a_failure_takes_the_bar_down_and_claims_nothing(
    clock: list[float],
) -> None:
    stream = io.StringIO()
    progress = _Progress("backtest", terminal_console(stream=stream), enabled=True)

    def run_that_fails() -> None:
        with progress:
            clock[0] = _PROGRESS_DELAY + 1.0
            progress(3, 10)
            raise RuntimeError("halfway")

    with pytest.raises(RuntimeError, match="halfway"):
        run_that_fails()
    shown = Text.from_ansi(stream.getvalue()).plain
    assert "3/10" in shown
    assert "done in" not in shown
    written = stream.getvalue()
    progress.close()  # closing again is harmless
    assert stream.getvalue() == written


# ---------------------------------------------------------------------------- numbers


@given(st.floats(-1e9, 1e9, allow_nan=False), st.integers(0, 4))
def test_num_rounds_to_the_digits_asked_with_thousands_separators(
    value: float, digits: int
) -> None:
    text = _num(value, digits)
    assert float(text.replace(",", "")) == pytest.approx(round(value, digits), abs=10**-digits)
    assert (("." in text) if digits else ("." not in text)) is True


@given(st.floats(0, 1))
def test_pct_is_the_share_times_100_with_a_percent_sign(value: float) -> None:
    text = _pct(value)
    assert text.endswith("%")
    assert float(text[:-1]) == pytest.approx(100 * value, abs=0.005)


@given(st.integers(0, 10**9))
def test_count_shows_a_whole_number_without_decimals(value: int) -> None:
    assert _count(value) == f"{value:,}"
    assert _count(value + 0.5) == f"{value + 0.5:,.1f}"


def test_a_missing_number_is_a_dash() -> None:
    assert _num(None) == "-"
    assert _pct(None) == "-"
