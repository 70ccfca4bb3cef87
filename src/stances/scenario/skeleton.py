"""`stances new`: a commented what-if file that extends another and already runs."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from stances.scenario.schema import MODELINE, schema_copy
from stances.scenario.types import Scenario


def modeline(target: Path) -> str:
    """The schema modeline for a file at `target`: the project's copy of the schema by its path
    relative to the file's folder or, without one, `stances.schema.json` beside the file, with
    how to write it."""
    copy = schema_copy()
    if copy is None:
        return (
            f"{MODELINE}stances.schema.json\n"
            "# (editors check the file against it: `stances schema --out stances.schema.json`)\n"
        )
    return f"{MODELINE}{os.path.relpath(copy, target.parent.resolve())}\n"


def skeleton_text(parent: Scenario, target: Path) -> str:
    """The text of a what-if that extends `parent` (a path relative to `target`'s folder)."""
    relative = os.path.relpath(parent.path.resolve(), target.parent.resolve())
    rows = [
        f"#   {e.id:<28} {e.date.isoformat()}  {e.type.name:<22} {e.who}" for e in parent.events
    ]
    example = parent.events[-1] if parent.events else None
    ids = ", ".join(e.id for e in parent.events[:1]) or "some-event-id"
    actors = list(parent.actors)
    a, b = (actors + actors)[:2]
    return f"""{modeline(target)}# What if ...? Write here, in one sentence, the question this file asks.
# It starts as a copy of {relative}: it runs as it is. Uncomment and edit what you change.
# `stances validate {target}` checks it; `stances compare {parent.path} {target}` compares.
title: "What if ...?"
extends: {relative}

# Events inherited from {relative} (id, date, type, who):
{chr(10).join(rows) or "#   (none)"}

# Drop inherited events by id:
# remove: [{ids}]

# Change fields of an inherited event (date, intensity, type, actor, target, parties, ...):
# replace:
#   - {{id: {example.id if example else "some-event-id"}, intensity: 0.5}}

# New events (`stances events` lists the types; any CAMEO code works with cameo: "NNN"):
# add:
#   - id: my-new-event
#     date: {example.date.isoformat() if example else "2025-01-01"}
#     type: airstrike
#     actor: {a}
#     target: {b}
#     cite: "where this comes from, or why you assume it"

# Change parameters, initial relations, the time window or actors by dotted key:
# set:
#   parameters.memory_half_life: 52 weeks
#   relations.{a} -> {b}: 0.2
"""


def write_skeleton(parent: Scenario, target: Path) -> Path:
    """Write the skeleton (creating its folder); FileExistsError rather than overwrite a file,
    NotADirectoryError when the folder it goes in is a file."""
    text = skeleton_text(parent, target)
    if target.parent.exists() and not target.parent.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a folder", str(target.parent))
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8") as handle:
        handle.write(text)
    return target
