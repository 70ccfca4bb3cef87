"""YAML 1.2 read into plain data, with the position (file, line, column) of every value and key.

A ``Doc`` is what every later stage works on: ``whatif`` merges Docs, ``builder`` validates one
and reports problems where the user wrote them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from stances.errors import Position, Problem, ScenarioError

KeyPath = tuple[str | int, ...]


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that keeps dates as text, so that we parse (and report) them."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_str)


def yaml_reader() -> YAML:
    y = YAML(typ="rt")  # ruamel.yaml reads YAML 1.2 by default: `NO` stays a string
    y.Constructor = _Constructor
    return y


@dataclass
class Doc:
    """Plain data read from YAML, with the position of every value and every mapping key."""

    data: dict[str, Any]
    values: dict[KeyPath, Position] = field(default_factory=dict)
    keys: dict[KeyPath, Position] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def position(self, path: KeyPath, *, key: bool = False) -> Position:
        """Where the value (or, with key=True, the key) at path stands; else its nearest parent."""
        if key and path in self.keys:
            return self.keys[path]
        for n in range(len(path), -1, -1):
            if path[:n] in self.values:
                return self.values[path[:n]]
        return Position(str(self.files[0]) if self.files else "<input>")

    def subtree(self, path: KeyPath) -> tuple[dict[KeyPath, Position], dict[KeyPath, Position]]:
        """The positions under path, keyed by the rest of their path."""
        n = len(path)
        return (
            {p[n:]: v for p, v in self.values.items() if p[:n] == path},
            {p[n:]: v for p, v in self.keys.items() if p[:n] == path},
        )

    def graft(self, path: KeyPath, positions: tuple[dict, dict]) -> None:
        """Replace the positions under path by the given subtree positions."""
        self.drop(path)
        values, keys = positions
        self.values.update({path + p: v for p, v in values.items()})
        self.keys.update({path + p: v for p, v in keys.items()})

    def drop(self, path: KeyPath) -> None:
        """Forget the positions under path."""
        n = len(path)
        self.values = {p: v for p, v in self.values.items() if p[:n] != path}
        self.keys = {p: v for p, v in self.keys.items() if p[:n] != path or p == path}
        self.keys.pop(path, None)


def plain(node: Any, path: KeyPath, file: str, doc: Doc) -> Any:
    """Turn ruamel's node into plain Python, recording positions (1-based) in doc."""
    if isinstance(node, CommentedMap):
        out = {}
        for k in node:
            key = str(k)
            kl, kc = node.lc.key(k)
            # an empty value has no place of its own (ruamel gives the next token's): use the key's
            vl, vc = node.lc.value(k) if node[k] is not None else (kl, kc)
            doc.keys[(*path, key)] = Position(file, kl + 1, kc + 1)
            doc.values[(*path, key)] = Position(file, vl + 1, vc + 1)
            out[key] = plain(node[k], (*path, key), file, doc)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, item in enumerate(node):
            il, ic = node.lc.item(i)
            doc.values[(*path, i)] = Position(file, il + 1, ic + 1)
            out_list.append(plain(item, (*path, i), file, doc))
        return out_list
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def parse_yaml(text: str, file: str) -> Doc:
    """Read YAML text into a Doc whose positions name file; ScenarioError on bad YAML."""
    try:
        node = yaml_reader().load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise ScenarioError(
            [Problem(Position(file, line, col), "", f"not valid YAML: {what}")]
        ) from None
    except YAMLError as exc:
        raise ScenarioError([Problem(Position(file), "", f"not valid YAML: {exc}")]) from None
    doc = Doc(data={})
    if not isinstance(node, CommentedMap):
        got = (
            "an empty file"
            if node is None
            else "a list"
            if isinstance(node, CommentedSeq)
            else repr(node)
        )
        message = f"expected a mapping of keys (title:, time:, actors:, ...), got {got}"
        raise ScenarioError([Problem(Position(file, 1, 1), "", message)])
    doc.values[()] = Position(file, 1, 1)
    doc.data = plain(node, (), file, doc)
    return doc


def read_yaml(path: Path) -> Doc:
    """Read one YAML file into a Doc; ScenarioError if it is missing or not valid YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(Position(str(path)), "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            [Problem(Position(str(path)), "", f"cannot read the file: {exc}")]
        ) from None
    doc = parse_yaml(text, str(path))
    doc.files = [path]
    return doc


def where(doc: Doc, path: KeyPath) -> str:
    """A key path in words: events[paktika-strike].date, relations['CHN <-> PAK']."""
    out = ""
    node: Any = doc.data
    for part in path:
        if isinstance(part, int):
            ident = (
                node[part].get("id")
                if isinstance(node, list) and part < len(node) and isinstance(node[part], dict)
                else None
            )
            out += f"[{ident}]" if isinstance(ident, str) else f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}" if out else part
        else:
            out += f"['{part}']"
        node = (
            node.get(part)
            if isinstance(node, dict)
            else (
                node[part]
                if isinstance(node, list) and isinstance(part, int) and part < len(node)
                else None
            )
        )
    return out


def problem(doc: Doc, path: KeyPath, message: str, *, key: bool = False) -> Problem:
    """A problem at the value (or, with key=True, the key) at path, named in words."""
    return Problem(doc.position(path, key=key), where(doc, path), message)
