"""Problems found in input files, reported all at once as ``file:line:col: where: message``."""

from __future__ import annotations

import difflib
import re
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


SUGGESTED_MAX = 3  # names a "did you mean" offers at most


def _words(name: str) -> list[str]:
    """The lower-case words of a snake_case, kebab-case or dotted name ('grant_recognition' ->
    ['grant', 'recognition'])."""
    return [w for w in re.split(r"[_\-.\s]+", name.lower()) if w]


def _shares_stem(word: str, part: str) -> bool:
    """Whether two lower-case words share a stem: the first 5 letters (or all of the shorter,
    when it has 4 or more), e.g. 'recognise' and 'recognition', 'deport' and 'deportation'."""
    stem = min(len(word), len(part), 5)
    return stem >= 4 and word[:stem] == part[:stem]


def _same_word(word: str, part: str) -> bool:
    """Whether two lower-case words of 4 letters or more (shorter ones, 'no', 'of', match too
    much) look alike: a shared stem or a difflib ratio of 0.8 or more."""
    if min(len(word), len(part)) < 4:
        return False
    return _shares_stem(word, part) or difflib.SequenceMatcher(None, word, part).ratio() >= 0.8


def suggestions(word: str, candidates: Iterable[str]) -> list[str]:
    """The candidates `word` may have meant, best first, at most SUGGESTED_MAX: the one equal to
    it but for case; else the closest by difflib (ratio >= 0.6, case ignored), as ever; else
    those with a word (of a snake_case name) like a word of `word` (_same_word), e.g.
    'recognise' -> ['grant_recognition']."""
    names = list(dict.fromkeys(str(c) for c in candidates))
    text = str(word).lower()
    same = [c for c in names if c.lower() == text]
    if same:
        return same[:1]
    lowered = {c.lower(): c for c in reversed(names)}  # the first of equal-but-for-case names
    close = difflib.get_close_matches(text, lowered, n=1)
    if close:
        return [lowered[close[0]]]
    mine = _words(text)
    alike = [n for n in names if any(_same_word(w, p) for w in mine for p in _words(n))]
    return alike[:SUGGESTED_MAX]


def did_you_mean(names: list[str]) -> str:
    """' (did you mean 'x'?)', ' (did you mean 'x' or 'y'?)', ' (did you mean 'x', 'y' or
    'z'?)'; '' for no names."""
    if not names:
        return ""
    quoted = [f"'{name}'" for name in names]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f" (did you mean {listed}?)"


def suggest(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean ...?)' naming the suggestions() for word, or '' when nothing is close."""
    return did_you_mean(suggestions(word, candidates))


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
