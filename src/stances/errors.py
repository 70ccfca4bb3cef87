"""Problems found in input files, reported all at once as ``file:line:col: where: message``."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Position:
    """Where something stands in a file; line and col count from 1."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}" if self.line else self.file


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is, which key, and what is wrong."""

    pos: Position
    where: str
    message: str

    def __str__(self) -> str:
        # a command-line value's position already names its key: "--set KEY: message"
        if self.where and not self.pos.file.endswith(f" {self.where}"):
            return f"{self.pos}: {self.where}: {self.message}"
        return f"{self.pos}: {self.message}"


class ScenarioError(Exception):
    """Raised with every problem found in a scenario (and the files it extends)."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.pos, p.where, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


SHOWN_LIMIT = 60


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 2, 4, 3
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 40, 40, 40


def shown(value: object, limit: int = SHOWN_LIMIT) -> str:
    """A value as a message echoes it: its repr, cut to `limit` characters with '...' when longer
    (a problem is one readable line, whatever the file holds)."""
    text = _SHORT.repr(value)  # bounded however large or deep the value (reprlib)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def suggest(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest candidate, or '' when nothing is close."""
    match = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=0.6)
    if not match:
        lowered = {str(c).lower(): str(c) for c in candidates}
        if str(word).lower() in lowered:
            match = [lowered[str(word).lower()]]
    return f" (did you mean '{match[0]}'?)" if match else ""


# Bidirectional overrides and isolates reorder what a terminal shows (Unicode TR #9).
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def printable(text: str, keep: str = "") -> str:
    """Text safe to print on a terminal: control characters (C0, DEL, C1) and bidirectional
    controls written as escapes (ESC as \\x1b, U+202E as \\u202e), except those in `keep`
    (e.g. "\\n" for a block of lines)."""
    out = []
    for char in str(text):
        code = ord(char)
        if char in keep or not (code < 32 or 127 <= code < 160 or char in _BIDI_CONTROLS):
            out.append(char)
        elif code < 256:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out)
