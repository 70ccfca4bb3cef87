"""The scenarios shipped with the package (``scenarios/`` at the top of the project, shipped as
package data), found with ``importlib.resources`` so that they are there after any install."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped(name: str) -> Path:
    """The path of the shipped scenario file `name` (e.g. 'article.yaml')."""
    return Path(str(resources.files("stances").joinpath("scenarios", name)))


ARTICLE = shipped("article.yaml")
"""The article scenario: what `stances` with no arguments and ``StanceModel()`` run."""
