"""Shared fixtures: small scenario files written to a temporary directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

# A minimal valid scenario: three actors, one week-stepped quarter, one event.
# Line numbers matter to the loader tests: keep the layout as it is.
MINIMAL = """\
title: Minimal
time: {start: 2025-01-01, end: 2025-03-31, step: week}
seed: 1
actors:
  IND: {name: India}
  PAK: {name: Pakistan}
  AFG: {name: Afghanistan}
relations:
  IND -> PAK: -0.5
  AFG -> PAK: 0.2
events:
  - id: first
    date: 2025-01-10
    type: visit
    actor: IND
    target: AFG
"""

# The same scenario without events, to which tests append their own.
HEADER = MINIMAL.split("events:\n")[0]


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Factory: write YAML text to tmp_path/NAME and return the path."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
