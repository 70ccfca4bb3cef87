"""`stances schema`: the JSON Schema of scenario files, so editors check them as people type.

It is the schema of ``models.ScenarioFile``, the whole-file model built from the very types the
loader validates each section with, so it cannot drift from the format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stances.scenario.models import ScenarioFile


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of scenario files."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **ScenarioFile.model_json_schema(),
        "title": "stances scenario",
    }


MODELINE = "# yaml-language-server: $schema="
"""How a YAML file names its schema for the YAML language server (VS Code's YAML extension):
a comment line anywhere in the file; the path is relative to the file."""


def schema_copy() -> Path | None:
    """The copy of the schema kept in the project's docs/ (docs/stances.schema.json), when the
    package runs from a checkout of the project; None in an installed package."""
    path = Path(__file__).resolve().parents[3] / "docs" / "stances.schema.json"
    return path if path.is_file() else None
