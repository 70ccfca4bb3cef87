"""Helpers the test modules share: writing files, finding where a problem is reported, and
the headless browser the report and app tests use."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from stances import ScenarioError, load_scenario
from stances.errors import Position, Problem
from stances.scenario.observations import Observation

# Debian's chromium (.ci/run installs it), started as the browser tests start it
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]


def write(directory: Path, name: str, text: str) -> Path:
    """Write text to directory/name and return the path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def position_of(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the nth occurrence of needle in text, found by hand."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    before = text[:start]
    return before.count("\n") + 1, start - (before.rfind("\n") + 1) + 1


def problems_of(path: Path, sets: dict[str, str] | None = None) -> list[Problem]:
    """Every problem load_scenario reports for the file (it must refuse it)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, sets)
    assert info.value.problems, "a ScenarioError must carry at least one problem"
    return info.value.problems


def only_problem(path: Path) -> Problem:
    """The single problem reported for a file with one mistake."""
    problems = problems_of(path)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def assert_at(problem: Problem, path: Path, text: str, needle: str, nth: int = 0) -> None:
    """The problem stands in path at the (line, col) where needle occurs in text, and its
    message starts with file:line:col."""
    line, col = position_of(text, needle, nth)
    assert problem.pos.file == str(path), str(problem)
    assert (problem.pos.line, problem.pos.col) == (line, col), str(problem)
    assert str(problem).startswith(f"{path}:{line}:{col}: ")


def plain_yaml(text: str) -> Any:
    """YAML text as plain JSON-like data, read without stances (dates become text)."""

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {str(k): fix(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fix(v) for v in node]
        if isinstance(node, date):
            return node.isoformat()
        return node

    return fix(YAML(typ="safe", pure=True).load(text))


def observation(kind: str, **fields: Any) -> Observation:
    """An observation of A -> B of this kind, every other field given a plain default."""
    defaults: dict[str, Any] = dict(
        id=f"o-{kind}",
        score=(("A", "B"), None),
        kind=kind,
        reference=None,
        period=None,
        window=None,
        across=False,
        by=0.0,
        cite="hand",
        source=Position("hand.yaml", 1, 1),
    )
    return Observation(**{**defaults, **fields})
