"""What-if resolution: ``extends`` chains, then ``remove``, ``replace``, ``add`` and ``set``, then
the command line's ``--set`` (and ``--vary``) overrides.

Order, for a file that extends another: the parent is resolved first (its own ``extends``
included); then the child's plain keys (merged section by section), ``remove``, ``replace``,
``add``, ``set``. Every problem is collected and raised together as a ``ScenarioError``.
"""

from __future__ import annotations

import copy
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError

from stances.errors import Position, Problem, ScenarioError, shown, suggest, suggestions
from stances.scenario.document import (
    MAX_FILE_BYTES,
    Doc,
    KeyPath,
    file_problem,
    nearest_file,
    plain,
    problem,
    read_yaml,
    yaml_reader,
)
from stances.scenario.keys import MERGED_SECTIONS, settable_path
from stances.scenario.library import shipped, shipped_names
from stances.scenario.models import SECTIONS, expand_shorthand

WHAT_IF_KEYS = ("extends", "remove", "add", "replace", "set")
MAX_EXTENDS = 32  # `extends:` steps from a file to the root of its chain
MAX_CHAIN_BYTES = 4 * MAX_FILE_BYTES  # a file and all it extends, together


def _event_index(doc: Doc) -> dict[str, int]:
    events = doc.data.get("events")
    if not isinstance(events, list):
        return {}
    return {
        e["id"]: i
        for i, e in enumerate(events)
        if isinstance(e, dict) and isinstance(e.get("id"), str)
    }


def resolve(
    path: Path | str,
    cli_sets: Mapping[str, str] | None = None,
    flags: Mapping[str, str] | None = None,
) -> Doc:
    """Read path and every file it extends, apply the what-if keys, then command-line sets."""
    doc = _resolve(Path(path))
    if cli_sets:
        _apply_cli_sets(doc, cli_sets, flags or {})
    return doc


def _resolve(path: Path) -> Doc:
    """The file at path with its chain of parents merged in (a loop, not a recursion).

    The chain is read from the file up to the one that extends nothing, then merged from that
    root down. When a file of the chain cannot be read or merged, the problems of the files
    below it that do not depend on their parents are reported with its own."""
    chain = [read_yaml(path)]  # chain[0] is the file asked for, chain[-1] its farthest parent
    seen = [os.path.realpath(path)]
    total = os.stat(path).st_size
    while "extends" in chain[-1].data:
        parent_path, why = _parent_of(chain[-1], seen)
        if why is None:
            total += os.stat(parent_path).st_size
            if total > MAX_CHAIN_BYTES:
                message = (
                    f"the files of this extends chain hold more than {MAX_CHAIN_BYTES:,} bytes "
                    "together"
                )
                why = problem(chain[-1], ("extends",), message)
        if why is not None:
            raise ScenarioError([why, *_own_problems(chain)])
        try:
            chain.append(read_yaml(parent_path))
        except ScenarioError as exc:
            raise ScenarioError([*exc.problems, *_own_problems(chain)]) from None
        seen.append(os.path.realpath(parent_path))
    root = chain[-1]
    problems = _misspelt_what_if(root)
    if not problems:  # `extend:` and `add:`: the misspelling is the one mistake
        problems = [
            problem(root, (k,), f"'{k}:' only makes sense in a file with 'extends:'", key=True)
            for k in WHAT_IF_KEYS[1:]
            if k in root.data
        ]
    if problems:
        raise ScenarioError([*problems, *_own_problems(chain[:-1])])
    doc = root
    for n in range(len(chain) - 2, -1, -1):
        try:
            doc = _merge(doc, chain[n])
        except ScenarioError as exc:
            raise ScenarioError([*exc.problems, *_own_problems(chain[:n])]) from None
    return doc


def _parent_of(child: Doc, seen: list[str]) -> tuple[Path, Problem | None]:
    """The file child extends, or the problem with its `extends:`; seen: the real paths of the
    chain read so far, child's last."""
    ref = child.data["extends"]
    if not isinstance(ref, str) or not ref:
        return Path(), problem(child, ("extends",), "expected the path of a scenario file")
    if len(seen) > MAX_EXTENDS:
        message = (
            f"more than {MAX_EXTENDS} files extend one another, from {Path(seen[0]).name} "
            "(a what-if extends a scenario or another what-if, not a long chain)"
        )
        return Path(), problem(child, ("extends",), message)
    parent_path = child.files[0].parent / ref
    real = os.path.realpath(parent_path)  # never raises, even on a loop of symbolic links
    if real in seen:
        names = " -> ".join(Path(p).name for p in (*seen, real))
        return parent_path, problem(child, ("extends",), f"extends makes a cycle: {names}")
    why = file_problem(parent_path)
    if why == "no such file":
        message = f"no such file: {parent_path} (paths are relative to this file)"
        return parent_path, problem(child, ("extends",), message + _meant(parent_path, ref))
    if why is not None:
        return parent_path, problem(child, ("extends",), f"{parent_path}: {why}")
    return parent_path, None


def _meant(missing: Path, ref: str) -> str:
    """What a missing parent may be: the shipped scenario of that name (written as `extends:`
    reaches it from missing's folder), else the closest files in that folder, else the closest
    shipped scenario; '' when nothing is close."""
    names = shipped_names()
    if missing.name in names:
        where = _written_from(missing.parent, shipped(missing.name))
        return f"; {missing.name} is a scenario shipped with stances: write extends: {where}"
    near = nearest_file(missing, ref)
    if near:
        return near
    stems = {Path(name).stem: name for name in names}
    found = suggestions(missing.stem, stems) if missing.suffix in (".yaml", ".yml", "") else []
    if not found:
        return ""
    where = _written_from(missing.parent, shipped(stems[found[0]]))
    return f" (did you mean the shipped scenario {stems[found[0]]}? write extends: {where})"


def _written_from(folder: Path, path: Path) -> str:
    """path as `extends:` in a file of folder may write it: relative to folder, or absolute
    when that is shorter (or no relative path exists, as across Windows drives)."""
    absolute = str(path.resolve())
    try:
        relative = os.path.relpath(absolute, folder.resolve())
    except ValueError:
        return absolute
    return relative if len(relative) <= len(absolute) else absolute


def _misspelt_what_if(doc: Doc) -> list[Problem]:
    """Unknown top-level keys nearest to a what-if key (`extend:`, `remvoe:`)."""
    known = (*SECTIONS, *WHAT_IF_KEYS)
    problems = []
    for key in doc.data:
        best = suggestions(key, known)[:1] if key not in known else []
        if best and best[0] in WHAT_IF_KEYS:
            hint = suggest(key, known)
            problems.append(problem(doc, (key,), f"unknown key '{key}'{hint}", key=True))
    return problems


def _own_problems(chain: list[Doc]) -> list[Problem]:
    """The problems of what-if files that do not depend on their parents (reported when a
    parent fails): unknown top-level keys, `events:` in a what-if, what-if keys of the wrong
    shape."""
    problems = []
    known = (*SECTIONS, *WHAT_IF_KEYS)
    for child in chain:
        for key in child.data:
            if key not in known:
                message = f"unknown key '{key}'" + suggest(key, known)
                problems.append(problem(child, (key,), message, key=True))
        if "events" in child.data:
            problems.append(_events_in_what_if(child))
        for key in ("remove", "replace", "add"):
            problems += _id_list(child, key)[1]
        for i, patch in _id_list(child, "replace")[0]:
            if not isinstance(patch, dict) or not isinstance(patch.get("id"), str):
                problems.append(problem(child, ("replace", i), _PATCH_SHAPE))
    return problems


def _events_in_what_if(child: Doc) -> Problem:
    message = "a file that extends another adds events with 'add:' (and drops them with 'remove:')"
    return problem(child, ("events",), message, key=True)


def _merge(parent: Doc, child: Doc) -> Doc:
    """The parent with the child's keys and what-if operations applied."""
    doc = Doc(
        copy.deepcopy(parent.data),
        dict(parent.values),
        dict(parent.keys),
        [*child.files, *parent.files],
    )
    problems: list[Problem] = _misspelt_what_if(child)
    moves: dict[KeyPath, KeyPath | None] = {}
    for key, value in child.data.items():
        if key in WHAT_IF_KEYS:
            continue
        if key == "events":
            problems.append(_events_in_what_if(child))
        elif (
            key in MERGED_SECTIONS
            and isinstance(value, dict)
            and isinstance(doc.data.get(key), dict)
        ):
            for sub, subvalue in value.items():
                doc.data[key].pop(sub, None)  # re-inserted last: later files apply after
                doc.data[key][sub] = subvalue
                moves[(key, sub)] = (key, sub)
        else:
            doc.data[key] = value
            moves[(key,)] = (key,)
    doc.transplant(child, moves)
    if any(k in child.data for k in ("remove", "replace", "add")):
        events = doc.data.get("events")
        if events is not None and not isinstance(events, list):
            problems.append(problem(doc, ("events",), f"expected a list, got {shown(events)}"))
            raise ScenarioError(problems)
    problems += _remove(doc, child)
    problems += _replace(doc, child)
    problems += _add(doc, child)
    problems += _apply_file_sets(doc, child)
    if problems:
        raise ScenarioError(problems)
    return doc


def _id_list(child: Doc, key: str) -> tuple[list[tuple[int, Any]], list[Problem]]:
    value = child.data.get(key)
    if value is None:
        return [], []
    if not isinstance(value, list):
        return [], [problem(child, (key,), "expected a list")]
    return list(enumerate(value)), []


def _remove(doc: Doc, child: Doc) -> list[Problem]:
    items, problems = _id_list(child, "remove")
    index = _event_index(doc)
    removed: dict[str, int] = {}
    for i, ident in items:
        if not isinstance(ident, str):
            problems.append(problem(child, ("remove", i), "expected an event id"))
        elif ident in removed:
            problems.append(problem(child, ("remove", i), f"'{ident}' is listed twice"))
        elif ident not in index:
            problems.append(
                problem(
                    child,
                    ("remove", i),
                    f"no inherited event has id {shown(ident)}" + suggest(ident, index),
                )
            )
        else:
            removed[ident] = index[ident]
    if removed:
        _delete_events(doc, set(removed.values()))
        _drop_observations_across(doc, set(removed))
    return problems


def _drop_observations_across(doc: Doc, gone: set[str]) -> None:
    """Drop the inherited observations of a change across a removed event: they were about
    that event, which the what-if takes away (the others are kept)."""
    observations = doc.data.get("observations")
    if not isinstance(observations, dict):
        return
    for ident in list(observations):
        spec = observations[ident]
        if not isinstance(spec, dict):
            continue
        for kind in ("rises", "falls"):
            change = spec.get(kind)
            if isinstance(change, dict) and change.get("across") in gone:
                del observations[ident]
                break


def _delete_events(doc: Doc, gone: set[int]) -> None:
    """Delete the events at the indices gone; the later ones move up, with their positions."""
    events = doc.data["events"]
    new_index: dict[int, int | None] = {}
    kept = 0
    for j in range(len(events)):
        new_index[j] = None if j in gone else kept
        kept += j not in gone
    doc.data["events"] = [e for j, e in enumerate(events) if j not in gone]
    doc.renumber(("events",), new_index)


_PATCH_SHAPE = "expected a mapping with the 'id' of an inherited event and the fields to change"


def _replace(doc: Doc, child: Doc) -> list[Problem]:
    items, problems = _id_list(child, "replace")
    index = _event_index(doc)
    moves: dict[KeyPath, KeyPath | None] = {}
    for i, patch in items:
        ident = patch.get("id") if isinstance(patch, dict) else None
        if not isinstance(ident, str):
            problems.append(problem(child, ("replace", i), _PATCH_SHAPE))
            continue
        if ident not in index:
            problems.append(
                problem(
                    child,
                    ("replace", i, "id"),
                    f"no inherited event has id {shown(ident)}" + suggest(ident, index),
                )
            )
            continue
        j = index[ident]
        # a problem with the patched event as a whole points at the patch the user wrote
        doc.values[("events", j)] = child.position(("replace", i))
        for key, value in patch.items():
            if key == "id":
                continue
            moves.pop(("events", j, key), None)  # a later patch of the same field wins
            if value is None:
                doc.data["events"][j].pop(key, None)
                moves[("events", j, key)] = None
            else:
                doc.data["events"][j][key] = value
                moves[("events", j, key)] = ("replace", i, key)
    doc.transplant(child, moves)
    return problems


def _add(doc: Doc, child: Doc) -> list[Problem]:
    items, problems = _id_list(child, "add")
    if not items:
        return problems
    if "events" not in doc.data:  # the parent has none: the list stands where `add:` does
        doc.values[("events",)] = child.position(("add",))
        doc.keys[("events",)] = child.position(("add",), key=True)
    events = doc.data.setdefault("events", [])
    doc.transplant(child, {("events", len(events) + i): ("add", i) for i, _ in items})
    events.extend(event for _, event in items)
    return problems


def _set_value(doc: Doc, path: KeyPath, value: Any, where: Position) -> str | None:
    """Put value at path, creating the mappings on the way (placed at `where`, the set key) and
    expanding a short form on the way (`policy: reactive` -> `{kind: reactive}`); the reason
    it cannot when the way goes through a value that is not a mapping."""
    node: Any = doc.data
    for n, part in enumerate(path[:-1], start=1):
        prefix = path[:n]
        if isinstance(node, list) and isinstance(part, int):  # an event, found by its id
            node = node[part]
            continue
        child = node.get(part)
        if isinstance(child, list) and isinstance(path[n], int):
            node = child
            continue
        if child is None:
            child = node[part] = {}
            doc.values.setdefault(prefix, where)
            doc.keys.setdefault(prefix, where)
        elif not isinstance(child, dict):
            expanded = expand_shorthand(prefix, child)
            name = ".".join(map(str, prefix))
            if not isinstance(expanded, dict):
                return f"{name} is {shown(child)}, not a mapping: set '{name}' as a whole"
            node[part] = child = expanded
            for key in expanded:  # the short form's place is the place of each of its keys
                doc.values[(*prefix, key)] = doc.keys[(*prefix, key)] = doc.position(prefix)
        node = child
    node.pop(path[-1], None)  # re-inserted last: a set applies after what it overrides
    node[path[-1]] = value
    return None


def _apply_file_sets(doc: Doc, child: Doc) -> list[Problem]:
    sets = child.data.get("set")
    if sets is None:
        return []
    if not isinstance(sets, dict):
        return [
            problem(
                child,
                ("set",),
                "expected a mapping of dotted keys to values, e.g. parameters.memory_half_life: 52 weeks",
            )
        ]
    problems = []
    for dotted, value in sets.items():
        path, why = settable_path(doc, dotted)
        if path is not None:
            why = _set_value(doc, path, value, child.keys[("set", dotted)]) or ""
        if why or path is None:
            problems.append(problem(child, ("set", dotted), why, key=True))
            continue
        doc.graft(path, child.subtree(("set", dotted)))
        doc.keys[path] = child.keys[("set", dotted)]
    return problems


def read_cli_value(text: str) -> Any:
    """A command-line value read as YAML (plain data); ValueError with the reason if it
    cannot be read (bad YAML, or a tag such as !!int that does not fit its text)."""
    if not text:
        return None
    try:
        value = yaml_reader().load(io.StringIO(f"v: {text}"))["v"]
    except YAMLError as exc:
        raise ValueError(" ".join(str(exc).split())) from None
    except (ValueError, TypeError, OverflowError) as exc:  # raised while building a tagged value
        raise ValueError(str(exc)) from None
    return plain(value, ("v",), "--set", Doc({"v": None}))


def _apply_cli_sets(doc: Doc, sets: Mapping[str, str], flags: Mapping[str, str]) -> None:
    """Apply command-line KEY=VALUE overrides; a problem names the option it came from
    (`flags[KEY]`, default '--set')."""
    problems = []
    for dotted, text in sets.items():
        where = Position(f"{flags.get(dotted, '--set')} {dotted}")
        path, why = settable_path(doc, dotted)
        if path is None:
            problems.append(Problem(where, "", why))
            continue
        try:
            value = read_cli_value(text)
        except ValueError as exc:
            problems.append(Problem(where, "", f"cannot read the value {shown(text)}: {exc}"))
            continue
        refused = _set_value(doc, path, value, where)
        if refused:
            problems.append(Problem(where, "", refused))
            continue
        doc.drop(path)
        doc.values[path] = where
        doc.keys[path] = where
    if problems:
        raise ScenarioError(problems)
