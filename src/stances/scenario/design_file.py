"""Design files (``--design FILE.csv``): a header line of dotted keys, then one line per
member, read with the line and column of every cell so that a problem says where it is.

Cells are kept as text (``parse_design(..., text=True)`` reads numbers and dates from them).
The format is plain CSV (RFC 4180): comma-separated, a field may be quoted with double
quotes ("" inside it for one), blank lines are skipped; a field cannot hold a line break.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stances.errors import Position, Problem
from stances.scenario.design import Design, DesignError, Where, parse_design
from stances.scenario.types import Scenario

MAX_DESIGN_BYTES = 1 << 30  # 1 GiB: a design of a few million members fits well below it


def load_design(path: Path, spec: Scenario) -> Design:
    """The design in the CSV file at `path`, checked against `spec`; DesignError with every
    problem as ``FILE:line:col: key: message`` (a missing or unreadable file, an empty one,
    a line with another number of cells than the header, a repeated or unknown column, a
    cell that is not a number or a date, or out of its key's range)."""
    columns, where = read_design_csv(path)
    return parse_design(spec, columns, where, text=True)


def read_design_csv(path: Path) -> tuple[dict[str, np.ndarray], Where]:
    """The columns of a design file (name -> cells as text, object arrays) and where each
    cell stands; DesignError when the file cannot be read or is not a table."""
    name = str(path)
    try:
        if path.stat().st_size > MAX_DESIGN_BYTES:
            raise _error(Position(name), "the design file is larger than 1 GiB")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _error(Position(name), "no such design file") from None
    except IsADirectoryError:
        raise _error(Position(name), "is a directory, not a design file (.csv)") from None
    except UnicodeDecodeError as exc:
        raise _error(Position(name), f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise _error(Position(name), f"cannot read the design file: {exc.strerror}") from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise _error(
            Position(name, 1, 1),
            "the design file is empty: expected a header line of dotted keys "
            "(e.g. parameters.kappa_observer) and one line per member",
        )
    rows, problems = [], []
    for n, line in lines:
        cells = split_line(line)
        if isinstance(cells, str):
            problems.append(Problem(Position(name, n, 1), "", cells))
        else:
            rows.append((n, cells))
    if problems:
        raise DesignError(problems)
    return _table(name, rows)


def _table(name: str, rows: list[tuple[int, list[tuple[str, int]]]]) -> tuple[dict, Where]:
    """Columns and positions from the split lines (the first is the header)."""
    (head_line, header), body = rows[0], rows[1:]
    keys = [key.strip() for key, _ in header]
    problems = []
    for c, (key, col) in enumerate(header):
        if not key.strip():
            problems.append(Problem(Position(name, head_line, col), "", "a column has no name"))
        elif key.strip() in keys[:c]:
            problems.append(
                Problem(Position(name, head_line, col), key.strip(), "the column is given twice")
            )
    if not body:
        problems.append(
            Problem(
                Position(name, head_line + 1, 1),
                "",
                "no members: one line per member follows the header",
            )
        )
    for n, cells in body:
        if len(cells) != len(header):
            problems.append(
                Problem(
                    Position(name, n, cells[min(len(cells) - 1, len(header))][1]),
                    "",
                    f"{len(cells)} cells, the header has {len(header)} columns",
                )
            )
    if problems:
        raise DesignError(problems)
    columns = {
        key: np.array([cells[c][0] for _, cells in body], dtype=object)
        for c, key in enumerate(keys)
    }

    def where(row: int | None, col: int) -> tuple[Position, str]:
        line, cells = (head_line, header) if row is None else body[row]
        return Position(name, line, cells[col][1]), keys[col]

    return columns, where


def split_line(line: str) -> list[tuple[str, int]] | str:
    """The cells of one CSV line with the 1-based column each starts at, or why it is not a
    line of cells (an unclosed quote, text after a closing quote)."""
    cells: list[tuple[str, int]] = []
    i, n = 0, len(line)
    while True:
        start = i
        if i < n and line[i] == '"':
            value, i = _quoted(line, i)
            if i < 0:
                return f"column {start + 1}: a quote opened here is not closed on this line"
            if i < n and line[i] != ",":
                return (
                    f'column {i + 1}: text after a closing quote (write "" for a quote inside one)'
                )
        else:
            end = line.find(",", i)
            end = n if end < 0 else end
            value, i = line[i:end], end
        cells.append((value, start + 1))
        if i >= n:
            return cells
        i += 1  # the comma


def _quoted(line: str, i: int) -> tuple[str, int]:
    """The text of a quoted field starting at line[i] == '"' and the index after it (-1: not
    closed)."""
    out, i = [], i + 1
    while i < len(line):
        if line[i] == '"':
            if line[i + 1 : i + 2] == '"':
                out.append('"')
                i += 2
                continue
            return "".join(out), i + 1
        out.append(line[i])
        i += 1
    return "", -1


def _error(pos: Position, message: str) -> DesignError:
    return DesignError([Problem(pos, "", message)])
