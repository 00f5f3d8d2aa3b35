"""The command's tables stay aligned with Korean (double-width) supplier names.

Alignment is judged by display width, as a terminal shows text: a Hangul syllable takes two
columns (rich's ``cell_len``). Each table is checked piped (plain text: headings, dashes, rows)
and on a simulated terminal (``Console(force_terminal=True, width=...)``).
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any, TextIO

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from consign_core.cli import main


SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data" / "orders.csv"

# supplier names of different display widths: 8, 2, 12 and 4 columns (one mixed)
NAMES = {"S14": "한빛상사", "S06": "A1", "S19": "대한물산유통", "S11": "가나2B"}


def korean_log(tmp_path: Path) -> Path:
    """The sample log with some suppliers renamed as a Korean seller writes them."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    at = header.index("supplier_id")
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[at] = NAMES.get(cells[at], cells[at])
        out.append(",".join(cells))
    target = tmp_path / "한글-orders.csv"
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return target


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def on_a_terminal(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    def console(stream: TextIO) -> Console:
        return Console(file=stream, force_terminal=True, width=width)

    monkeypatch.setattr("consign_core.cli._output._console_factory", console)


def display_start(line: str, index: int) -> int:
    return cell_len(line[:index])


def cell_positions(line: str, cells: list[str]) -> list[tuple[int, int]]:
    """(start, end) display columns of each cell, found left to right in ``line``."""
    positions = []
    at = 0
    for cell in cells:
        index = line.index(cell, at)
        positions.append((display_start(line, index), display_start(line, index + len(cell))))
        at = index + len(cell)
    return positions


def trust_cells(view: dict[str, Any]) -> list[str]:
    """The first cells of a ``trust`` row as the JSON document gives them."""
    return [
        view["supplier_id"],
        view["tier"],
        f"{100 * view['p_cancel']:.1f}%",
        f"{100 * view['p_cancel_upper']:.1f}%",
        str(view["orders"]),
        str(view["supplier_cancels"]),
    ]


def assert_columns_line_up(rows: list[str], views: list[dict[str, Any]]) -> None:
    """Left-aligned cells (supplier, tier) start, numbers end, at one display column each."""
    assert len(rows) == len(views)
    positions = [
        cell_positions(row, trust_cells(view)) for row, view in zip(rows, views, strict=True)
    ]
    for column, right in enumerate([False, False, True, True, True, True]):
        edge = [p[column][1 if right else 0] for p in positions]
        assert len(set(edge)) == 1, (column, edge, rows)


def trust_views(capsys: pytest.CaptureFixture[str], log: Path) -> list[dict[str, Any]]:
    code, out, _err = run(capsys, "trust", str(log), "--json")
    assert code == 0
    views: list[dict[str, Any]] = json.loads(out)["suppliers"]
    return views


def test_piped_trust_table_aligns_hangul_names_by_display_width(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = korean_log(tmp_path)
    views = trust_views(capsys, log)
    assert set(NAMES.values()) <= {v["supplier_id"] for v in views}
    code, out, _err = run(capsys, "trust", str(log))
    assert code == 0
    assert "\x1b" not in out  # no colour codes in a pipe
    assert not re.search(r"[\u2500-\u257f]", out)  # nor box-drawing characters
    lines = out.splitlines()
    dashes = next(i for i, line in enumerate(lines) if line.startswith("-"))
    rows = lines[dashes + 1 :]
    assert_columns_line_up(rows, views)
    # the line of dashes spans each column: the widest name sets the first one
    widths = [len(run) for run in re.findall(r"-+", lines[dashes])]
    assert widths[0] == max(cell_len(v["supplier_id"]) for v in views)
    assert all(line == line.rstrip() for line in lines)  # no trailing spaces


@pytest.mark.parametrize("width", [200, 100])
def test_trust_table_on_a_terminal_aligns_hangul_names_by_display_width(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    width: int,
) -> None:
    log = korean_log(tmp_path)
    views = trust_views(capsys, log)
    on_a_terminal(monkeypatch, width)
    code, out, _err = run(capsys, "trust", str(log))
    assert code == 0
    assert "\x1b[" in out  # styled for the terminal
    plain = Text.from_ansi(out).plain
    lines = plain.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("─"))
    rows = lines[rule + 1 :]
    assert_columns_line_up(rows, views)
    assert all(cell_len(line) <= width for line in lines)


def test_trust_json_is_the_same_on_a_terminal_and_in_a_pipe(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = korean_log(tmp_path)
    code, piped, _err = run(capsys, "trust", str(log), "--json")
    assert code == 0
    on_a_terminal(monkeypatch, 120)
    code, shown, _err = run(capsys, "trust", str(log), "--json")
    assert code == 0
    assert shown == piped
    assert "한빛상사" in piped  # written as is, not escaped


def test_piped_backtest_tables_keep_every_column_apart(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Every cell of every plain table sits inside its column's run of dashes."""
    code, out, _err = run(
        capsys, "backtest", str(korean_log(tmp_path)), "--policy", "await-invoice", "--quiet"
    )
    assert code == 0
    blocks = out.split("\n\n")
    tables = [b for b in blocks if len(b.splitlines()) > 1 and b.splitlines()[1].startswith("-")]
    assert len(tables) == 2  # the policies and the prediction quality
    for table in tables:
        lines = table.strip("\n").splitlines()
        spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[1])]
        for line in [lines[0], *lines[2:]]:
            for (_, end), (start, _) in itertools.pairwise(spans):
                gap = line[end:start]
                assert gap == " " * (start - end), (line, end, start)


def test_simulate_table_on_a_terminal_shows_the_numbers_of_the_pipe(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["simulate", "--orders", "150", "--quiet", "--policy", "await-invoice"]
    code, piped, _err = run(capsys, *argv)
    assert code == 0
    on_a_terminal(monkeypatch, 160)
    code, shown, _err = run(capsys, *argv)
    assert code == 0
    plain = Text.from_ansi(shown).plain

    def words(text: str) -> list[str]:
        return [w for w in text.split() if not set(w) <= {"-", "─"}]

    assert words(plain) == words(piped)
