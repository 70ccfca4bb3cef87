"""What-if resolution: ``extends`` chains, then ``remove``, ``replace``, ``add`` and ``set``, then
the command line's ``--set`` (and ``--vary``) overrides.

Order, for a file that extends another: the parent is resolved first (its own ``extends``
included); then the child's plain keys (merged section by section), ``remove``, ``replace``,
``add``, ``set``. Every problem is collected and raised together as a ``ScenarioError``.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError

from stances.errors import Position, Problem, ScenarioError, shown, suggest
from stances.scenario.document import Doc, KeyPath, plain, problem, read_yaml, yaml_reader
from stances.scenario.keys import MERGED_SECTIONS, settable_path
from stances.scenario.models import expand_shorthand

WHAT_IF_KEYS = ("extends", "remove", "add", "replace", "set")


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
    doc = _resolve(Path(path), ())
    if cli_sets:
        _apply_cli_sets(doc, cli_sets, flags or {})
    return doc


def _resolve(path: Path, chain: tuple[Path, ...]) -> Doc:
    child = read_yaml(path)
    parent_ref = child.data.get("extends")
    if parent_ref is None:
        problems = [
            problem(child, (k,), f"'{k}:' only makes sense in a file with 'extends:'", key=True)
            for k in WHAT_IF_KEYS[1:]
            if k in child.data
        ]
        if problems:
            raise ScenarioError(problems)
        return child
    if not isinstance(parent_ref, str):
        raise ScenarioError([problem(child, ("extends",), "expected the path of a scenario file")])
    parent_path = path.parent / parent_ref
    here = path.resolve()
    if parent_path.resolve() in (*chain, here):
        names = " -> ".join(p.name for p in (*chain, here, parent_path.resolve()))
        raise ScenarioError([problem(child, ("extends",), f"extends makes a cycle: {names}")])
    if not parent_path.is_file():
        raise ScenarioError(
            [
                problem(
                    child,
                    ("extends",),
                    f"no such file: {parent_path} (paths are relative to this file)",
                )
            ]
        )
    parent = _resolve(parent_path, (*chain, here))
    return _merge(parent, child)


def _merge(parent: Doc, child: Doc) -> Doc:
    """The parent with the child's keys and what-if operations applied."""
    doc = Doc(
        copy.deepcopy(parent.data),
        dict(parent.values),
        dict(parent.keys),
        [*child.files, *parent.files],
    )
    problems: list[Problem] = []
    for key, value in child.data.items():
        if key in WHAT_IF_KEYS:
            continue
        if key == "events":
            problems.append(
                problem(
                    child,
                    (key,),
                    "a file that extends another adds events with 'add:' (and drops them with 'remove:')",
                    key=True,
                )
            )
        elif (
            key in MERGED_SECTIONS
            and isinstance(value, dict)
            and isinstance(doc.data.get(key), dict)
        ):
            for sub, subvalue in value.items():
                doc.data[key].pop(sub, None)  # re-inserted last: later files apply after
                doc.data[key][sub] = subvalue
                doc.graft((key, sub), child.subtree((key, sub)))
                doc.keys[(key, sub)] = child.keys[(key, sub)]
        else:
            doc.data[key] = value
            doc.graft((key,), child.subtree((key,)))
            doc.keys[(key,)] = child.keys[(key,)]
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
    seen: set[str] = set()
    for i, ident in items:
        index = _event_index(doc)
        if not isinstance(ident, str):
            problems.append(problem(child, ("remove", i), "expected an event id"))
        elif ident in seen:
            problems.append(problem(child, ("remove", i), f"'{ident}' is listed twice"))
        elif ident not in index:
            problems.append(
                problem(
                    child,
                    ("remove", i),
                    f"no inherited event has id '{ident}'" + suggest(ident, index),
                )
            )
        else:
            seen.add(ident)
            _delete_event(doc, index[ident])
    return problems


def _delete_event(doc: Doc, i: int) -> None:
    events = doc.data["events"]
    later = [doc.subtree(("events", j)) for j in range(i + 1, len(events))]
    del events[i]
    for j in range(i, len(events) + 1):
        doc.drop(("events", j))
    for offset, positions in enumerate(later):
        doc.graft(("events", i + offset), positions)
        doc.values[("events", i + offset)] = positions[0].get((), doc.position(("events",)))


def _replace(doc: Doc, child: Doc) -> list[Problem]:
    items, problems = _id_list(child, "replace")
    for i, patch in items:
        index = _event_index(doc)
        ident = patch.get("id") if isinstance(patch, dict) else None
        if not isinstance(ident, str):
            problems.append(
                problem(
                    child,
                    ("replace", i),
                    "expected a mapping with the 'id' of an inherited event and the fields to change",
                )
            )
            continue
        if ident not in index:
            problems.append(
                problem(
                    child,
                    ("replace", i, "id"),
                    f"no inherited event has id '{ident}'" + suggest(ident, index),
                )
            )
            continue
        j = index[ident]
        # a problem with the patched event as a whole points at the patch the user wrote
        doc.values[("events", j)] = child.position(("replace", i))
        for key, value in patch.items():
            if key == "id":
                continue
            if value is None:
                doc.data["events"][j].pop(key, None)
                doc.drop(("events", j, key))
            else:
                doc.data["events"][j][key] = value
                doc.graft(("events", j, key), child.subtree(("replace", i, key)))
                doc.keys[("events", j, key)] = child.keys[("replace", i, key)]
    return problems


def _add(doc: Doc, child: Doc) -> list[Problem]:
    items, problems = _id_list(child, "add")
    events = doc.data.setdefault("events", [])
    for i, event in items:
        events.append(event)
        doc.graft(("events", len(events) - 1), child.subtree(("add", i)))
    return problems


def _set_value(doc: Doc, path: KeyPath, value: Any, where: Position) -> str | None:
    """Put value at path, creating the mappings on the way (placed at `where`, the set key) and
    expanding a short form on the way (`policy: reactive` -> `{kind: reactive}`); the reason
    it cannot when the way goes through a value that is not a mapping."""
    node: dict[Any, Any] = doc.data
    for n, part in enumerate(path[:-1], start=1):
        prefix = path[:n]
        child = node.get(part)
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


def _read_cli_value(text: str) -> Any:
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
            value = _read_cli_value(text)
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
