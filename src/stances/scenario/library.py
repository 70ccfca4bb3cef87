"""The scenarios shipped with the package (``scenarios/`` at the top of the project, shipped as
package data), found with ``importlib.resources`` so that they are there after any install."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped(name: str) -> Path:
    """The path of the shipped scenario file `name` (e.g. 'article.yaml')."""
    return Path(str(resources.files("stances").joinpath("scenarios", name)))


def shipped_names() -> list[str]:
    """The file names of the shipped scenarios ('article.yaml', 'no-mediation.yaml', ...),
    sorted; [] when the folder cannot be listed."""
    try:
        folder = resources.files("stances").joinpath("scenarios")
        return sorted(p.name for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))
    except OSError:
        return []


ARTICLE = shipped("article.yaml")
"""The article scenario: what `stances` with no arguments and ``StanceModel()`` run."""
