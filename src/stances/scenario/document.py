"""YAML 1.2 read into plain data, with the position (file, line, column) of every value and key.

A ``Doc`` is what every later stage works on: ``whatif`` merges Docs, ``builder`` validates one
and reports problems where the user wrote them.

Reading is guarded against hostile files: a file is refused, with the position of the cause,
when it is larger than ``MAX_FILE_BYTES``, is not UTF-8, holds control characters, nests more
than ``MAX_DEPTH`` mappings and lists, expands (through aliases) to more than ``MAX_NODES``
values, aliases a node from inside itself, or uses tags or merge keys (``<<:``) that a scenario
never needs. The guards run while ruamel composes the node graph, before its recursive
constructor would overflow the stack or the alias expansion would fill the memory.
"""

from __future__ import annotations

import errno
import io
import itertools
import os
import re
import stat
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import MappingNode, ScalarNode

from stances.errors import (
    Position,
    Problem,
    ScenarioError,
    did_you_mean,
    shown,
    suggestions,
)

KeyPath = tuple[str | int, ...]

# ruamel's round-trip reader takes seconds for each 100 kB of dense YAML on a busy machine:
MAX_FILE_BYTES = 262_144  # 256 KiB; the largest shipped scenario is under 6 kB
MAX_DEPTH = 50  # mappings and lists nested in one another (the root mapping is level 1)
MAX_NODES = 100_000  # values and keys of one file, every alias counted as what it repeats
MAX_KEY_CHARS = 200  # a mapping key names something; it is never a text

# The tags of YAML's core schema that give text, numbers, true/false, null, mappings and lists
# (timestamps are read as text: dates are parsed, and reported, by the builder).
_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(
    _CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)
_TYPE_NAMES = {
    _CORE + "int": "a whole number",
    _CORE + "float": "a number",
    _CORE + "bool": "true or false",
}

# ruamel's reader refuses these characters in the file's text (YAML 1.2 "printable" set)
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
# ... and these must not come out of an escape ("\0", "\x1b", "\ud800") into a value either:
# control characters (tab and line feed are text) and lone surrogates, which no file or terminal
# can encode. A key holds neither a tab nor a line break.
_BAD_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_BAD_IN_KEY = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def _character(c: str) -> str:
    names = {"\x00": " (NUL)", "\t": " (tab)", "\n": " (line feed)", "\r": " (carriage return)"}
    kind = "a lone surrogate" if "\ud800" <= c <= "\udfff" else "the control character"
    return f"{kind} U+{ord(c):04X}{names.get(c, '')}"


class _Refused(MarkedYAMLError):
    """Well-formed YAML that a scenario file may not hold; its problem is the whole message."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(problem=message, problem_mark=mark)


def _tag_name(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


def _alias_name(anchor: str) -> str:
    return "*" + (anchor if len(anchor) <= 40 else anchor[:37] + "...")


class _Composer(Composer):
    """ruamel's composer, with the guards: nesting depth, alias expansion, self-reference,
    tags, merge keys and keys that are not plain values.

    For every node composed it keeps (size, height): size counts the node and everything under
    it as the plain data will hold it, an alias counting the whole of the node it repeats;
    height counts the levels of mappings and lists (a scalar: 0). A node without an entry yet
    is still being composed, so an alias to it would make a structure that contains itself.
    """

    def compose_document(self) -> Any:
        self._shape: dict[int, tuple[int, int]] = {}
        self._open = 0  # mappings and lists being composed around the current event
        self._total = 0  # size of everything composed so far, aliases expanded
        return super().compose_document()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        is_key = isinstance(parent, MappingNode) and index is None
        if isinstance(event, AliasEvent):
            return self._alias(event, is_key)
        self._check_event(event, is_key)
        if isinstance(event, CollectionStartEvent):
            self._open += 1
            if self._open > MAX_DEPTH:
                raise _Refused(
                    f"mappings and lists nested more than {MAX_DEPTH} levels deep", event.start_mark
                )
        node = super().compose_node(parent, index)
        if isinstance(event, CollectionStartEvent):
            self._open -= 1
        children = (
            []
            if isinstance(node, ScalarNode)
            else [n for pair in node.value for n in pair]
            if isinstance(node, MappingNode)
            else node.value
        )
        shapes = [self._shape[id(child)] for child in children]
        size = 1 + sum(s for s, _ in shapes)
        height = 0 if isinstance(node, ScalarNode) else 1 + max((h for _, h in shapes), default=0)
        self._shape[id(node)] = (size, height)
        self._count(1, event.start_mark)
        return node

    def _alias(self, event: AliasEvent, is_key: bool) -> Any:
        if is_key:
            raise _Refused(
                f"a key cannot be an alias ({_alias_name(event.anchor)})", event.start_mark
            )
        node = self.anchors.get(event.anchor)
        if node is None:
            return super().compose_node(None, None)  # ruamel reports the undefined alias
        if id(node) not in self._shape:
            raise _Refused(
                f"the alias {_alias_name(event.anchor)} stands inside the node it repeats "
                "(a structure that contains itself)",
                event.start_mark,
            )
        size, height = self._shape[id(node)]
        if self._open + height > MAX_DEPTH:
            raise _Refused(
                f"the alias {_alias_name(event.anchor)} nests mappings and lists more than "
                f"{MAX_DEPTH} levels deep",
                event.start_mark,
            )
        self._count(size, event.start_mark, event.anchor)
        return super().compose_node(None, None)

    def _count(self, size: int, mark: Any, anchor: str | None = None) -> None:
        self._total += size
        if self._total <= MAX_NODES:
            return
        if anchor is None:
            message = f"the file holds more than {MAX_NODES:,} values and keys"
        else:
            message = (
                f"the alias {_alias_name(anchor)} repeats {size:,} values and keys, which brings the file "
                f"to more than {MAX_NODES:,} (every alias counts all that it repeats)"
            )
        raise _Refused(message, mark)

    def _check_event(self, event: Any, is_key: bool) -> None:
        tag = event.tag
        if tag is not None and tag != "!" and tag not in ALLOWED_TAGS:
            raise _Refused(
                f"the tag {shown(_tag_name(tag))} is not supported: a scenario holds text, numbers, "
                "true/false, null, mappings and lists",
                event.start_mark,
            )
        if not is_key:
            return
        if isinstance(event, SequenceStartEvent | MappingStartEvent):
            raise _Refused("a key must be a plain value, not a list or a mapping", event.start_mark)
        if isinstance(event, ScalarEvent) and event.value == "<<" and event.style is None:
            raise _Refused(
                "merge keys ('<<:') are not supported: write the keys out "
                "(an alias of a whole value, such as key: *name, works)",
                event.start_mark,
            )


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that keeps dates as text, so that we parse (and report) them, and
    that reports a value its tag cannot read (`!!int abc`) at the value."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            what = _TYPE_NAMES.get(str(node.tag), "a value")
            detail = "" if not str(exc) or str(node.tag) in _TYPE_NAMES else f": {exc}"
            if "digits" in str(exc):  # Python's limit on int("...") of very long numbers
                detail = f" (it has more than {sys.get_int_max_str_digits():,} digits)"
            raise _Refused(
                f"cannot read {shown(node.value)} as {what}{detail}"[:200], node.start_mark
            ) from None


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_str)


def yaml_reader() -> YAML:
    """ruamel's YAML 1.2 round-trip reader with this module's guards (a fresh one per text)."""
    y = YAML(typ="rt")  # ruamel.yaml reads YAML 1.2 by default: `NO` stays a string
    y.Composer = _Composer
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

    def transplant(self, source: Doc, moves: dict[KeyPath, KeyPath | None]) -> None:
        """For each (to, from) of moves, replace the positions under `to` by those under `from`
        in source (none when `from` is None): one pass over each Doc, however many moves."""
        if not moves:
            return
        to_lengths = {len(p) for p in moves}
        self.values = _without(self.values, moves, to_lengths)
        self.keys = _without(self.keys, moves, to_lengths)
        back = {src: dst for dst, src in moves.items() if src is not None}
        from_lengths = {len(p) for p in back}
        for mine, theirs in ((self.values, source.values), (self.keys, source.keys)):
            for p, pos in theirs.items():
                for n in from_lengths:
                    if p[:n] in back:
                        mine[back[p[:n]] + p[n:]] = pos
                        break

    def renumber(self, prefix: KeyPath, new_index: dict[int, int | None]) -> None:
        """Move the positions under prefix + (i,) to prefix + (new_index[i],), or forget them
        when that is None (items of a list deleted or shifted); in one pass."""
        n = len(prefix)

        def moved(table: dict[KeyPath, Position]) -> dict[KeyPath, Position]:
            out = {}
            for p, pos in table.items():
                head = p[n] if len(p) > n else None
                if p[:n] == prefix and isinstance(head, int) and head in new_index:
                    j = new_index[head]
                    if j is not None:
                        out[(*prefix, j, *p[n + 1 :])] = pos
                else:
                    out[p] = pos
            return out

        self.values, self.keys = moved(self.values), moved(self.keys)


def _without(
    table: dict[KeyPath, Position], prefixes: dict[KeyPath, Any], lengths: set[int]
) -> dict[KeyPath, Position]:
    return {p: v for p, v in table.items() if not any(p[:n] in prefixes for n in lengths)}


def _check_text(text: str, pos: Position, problems: list[Problem], *, key: bool) -> None:
    bad = (_BAD_IN_KEY if key else _BAD_IN_TEXT).search(text)
    what = "a key" if key else "the text"
    if bad:
        problems.append(
            Problem(pos, "", f"{what} holds {_character(bad.group())}, which is not allowed")
        )
    elif key and len(text) > MAX_KEY_CHARS:
        problems.append(
            Problem(pos, "", f"a key of {len(text):,} characters (at most {MAX_KEY_CHARS})")
        )


class _Plain:
    """The walk of ``plain``: positions into doc, problems with text, and a count of nodes
    (an aliased node counts each time it is reached) and of levels, both bounded."""

    def __init__(self, file: str, doc: Doc) -> None:
        self.file, self.doc = file, doc
        self.problems: list[Problem] = []
        self.nodes = 0

    def walk(self, node: Any, path: KeyPath, pos: Position, depth: int) -> Any:
        self.nodes += 1
        collection = isinstance(node, CommentedMap | CommentedSeq)
        if self.nodes > MAX_NODES or (collection and depth > MAX_DEPTH):
            limit = f"{MAX_NODES:,} values" if self.nodes > MAX_NODES else f"{MAX_DEPTH} levels"
            raise ScenarioError([Problem(pos, "", f"the data grows past {limit}")])
        if isinstance(node, CommentedMap):
            return self._mapping(node, path, depth)
        if isinstance(node, CommentedSeq):
            out_list = []
            for i, item in enumerate(node):
                il, ic = node.lc.item(i)
                at = self.doc.values[(*path, i)] = Position(self.file, il + 1, ic + 1)
                out_list.append(self.walk(item, (*path, i), at, depth + 1))
            return out_list
        if isinstance(node, bool):
            return bool(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        if isinstance(node, str):
            _check_text(node, pos, self.problems, key=False)
            return str(node)
        return node

    def _mapping(self, node: CommentedMap, path: KeyPath, depth: int) -> dict[str, Any]:
        out = {}
        for k in node:
            key = str(k)
            kl, kc = node.lc.key(k)
            # an empty value has no place of its own (ruamel gives the next token's): use the key's
            vl, vc = node.lc.value(k) if node[k] is not None else (kl, kc)
            at_key = self.doc.keys[(*path, key)] = Position(self.file, kl + 1, kc + 1)
            at = self.doc.values[(*path, key)] = Position(self.file, vl + 1, vc + 1)
            _check_text(key, at_key, self.problems, key=True)
            if key in out:  # `1:` and `"1":` are one key once read as text
                self.problems.append(Problem(at_key, "", f"duplicate key {shown(key)}"))
            out[key] = self.walk(node[k], (*path, key), at, depth + 1)
        return out


def plain(node: Any, path: KeyPath, file: str, doc: Doc) -> Any:
    """Turn ruamel's node into plain Python, recording positions (1-based) in doc.

    ScenarioError for text that holds control characters or lone surrogates, for keys that are
    not short plain names, and (whatever reader made the node) for data of more than MAX_NODES
    values or MAX_DEPTH levels."""
    walker = _Plain(file, doc)
    start = doc.values.get(path, Position(file))
    out = walker.walk(node, path, start, 1)
    if walker.problems:
        raise ScenarioError(walker.problems)
    return out


def _text_problem(text: str, file: str) -> Problem | None:
    """A problem at the first character of text that YAML does not allow in a file."""
    bad = _NOT_PRINTABLE.search(text)
    if not bad:
        return None
    line = text.count("\n", 0, bad.start()) + 1
    col = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
    return Problem(
        Position(file, line, col), "", f"the file holds {_character(bad.group())}, not text"
    )


def _reused_anchor(exc: ReusedAnchorWarning, file: str) -> Problem:
    """A second `&name` for an anchor already defined: a problem where it stands."""
    text = str(exc)
    name = re.search(r"duplicate anchor '([^']*)'", text)
    places = re.findall(r"line (\d+), column (\d+)", text)
    line, col = (int(places[-1][0]), int(places[-1][1])) if places else (0, 0)
    first = f" (first on line {places[0][0]})" if len(places) > 1 else ""
    anchor = name.group(1) if name else "?"
    message = f"the anchor '&{anchor}' is defined twice{first}: give each anchor its own name"
    return Problem(Position(file, line, col), "", message)


def parse_yaml(text: str, file: str) -> Doc:
    """Read YAML text into a Doc whose positions name file; ScenarioError on bad YAML."""
    bad = _text_problem(text, file)
    if bad:
        raise ScenarioError([bad])
    try:
        with warnings.catch_warnings():  # a warning would reach the user as an extra line
            warnings.simplefilter("error", ReusedAnchorWarning)
            node = yaml_reader().load(io.StringIO(text))
    except ReusedAnchorWarning as exc:
        raise ScenarioError([_reused_anchor(exc, file)]) from None
    except _Refused as exc:
        mark = exc.problem_mark
        raise ScenarioError(
            [Problem(Position(file, mark.line + 1, mark.column + 1), "", exc.problem)]
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise ScenarioError(
            [Problem(Position(file, line, col), "", f"not valid YAML: {_one_line(what)}")]
        ) from None
    except YAMLError as exc:
        message = f"not valid YAML: {_one_line(str(exc))}"
        raise ScenarioError([Problem(Position(file), "", message)]) from None
    doc = Doc(data={})
    if not isinstance(node, CommentedMap):
        got = (
            "an empty file"
            if node is None
            else "a list"
            if isinstance(node, CommentedSeq)
            else shown(node)
        )
        message = f"expected a mapping of keys (title:, time:, actors:, ...), got {got}"
        raise ScenarioError([Problem(Position(file, 1, 1), "", message)])
    doc.values[()] = Position(file, 1, 1)
    doc.data = plain(node, (), file, doc)
    return doc


def _one_line(message: str, limit: int = 200) -> str:
    """ruamel's message on one line, cut short (a duplicate key's message quotes its values)."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def file_problem(path: Path) -> str | None:
    """Why path cannot be read as a scenario file (missing, a folder or device, a loop of
    symbolic links, larger than MAX_FILE_BYTES), or None when it can."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except NotADirectoryError:
        return "no such file (a part of the path is a file, not a folder)"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a loop of symbolic links, not a file"
        return f"cannot read the file: {exc.strerror or exc}"  # ENAMETOOLONG, EACCES, ...
    if stat.S_ISDIR(info.st_mode):
        return "not a regular file (a folder)"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a device, pipe or socket)"
    if info.st_size > MAX_FILE_BYTES:
        return (
            f"the file has {info.st_size:,} bytes; a scenario file has at most {MAX_FILE_BYTES:,}"
        )
    return None


def _decoded(data: bytes, file: str) -> str:
    """data as UTF-8 text; ScenarioError at the line and column of the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[line_start : exc.start].decode("utf-8")) + 1
        message = f"not UTF-8 text: byte 0x{data[exc.start]:02x} (save the file as UTF-8)"
        raise ScenarioError([Problem(Position(file, line, col), "", message)]) from None


MAX_LISTED = 1000  # entries of a folder looked at to suggest the file meant


def nearest_file(missing: Path, ref: str) -> str:
    """' (did you mean 'scenarios/article.yaml'?)' for the closest .yaml/.yml names in missing's
    folder, written as ref writes missing (the first MAX_LISTED entries of the folder; '' when
    none is close or it cannot be listed)."""
    try:
        entries = itertools.islice(os.scandir(missing.parent), MAX_LISTED)
        names = [e.name for e in entries if e.name.endswith((".yaml", ".yml"))]
    except OSError:
        return ""
    folder = ref[: len(ref) - len(missing.name)] if ref.endswith(missing.name) else ""
    stems = {Path(name).stem: name for name in sorted(names, reverse=True)}  # .yaml before .yml
    return did_you_mean([folder + stems[stem] for stem in suggestions(missing.stem, stems)])


def read_yaml(path: Path) -> Doc:
    """Read one YAML file into a Doc; ScenarioError if it cannot be read or is not valid YAML."""
    why = file_problem(path)
    if why is None:
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            why = f"cannot read the file: {exc.strerror or exc}"
        else:
            if len(data) > MAX_FILE_BYTES:  # grew since it was looked at
                why = f"the file has more than {MAX_FILE_BYTES:,} bytes"
    if why == "no such file":
        why += nearest_file(Path(path), str(path))
    if why is not None:
        raise ScenarioError([Problem(Position(str(path)), "", why)])
    doc = parse_yaml(_decoded(data, str(path)), str(path))
    doc.files = [path]
    return doc


def _printed(text: str, limit: int = 60) -> str:
    """text as it is when it is short and printable, else its shortened repr."""
    return text if len(text) <= limit and text.isprintable() else shown(text, limit)


def _where_part(part: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
        return part
    printed = _printed(part)
    return f"['{printed}']" if printed == part else f"[{printed}]"


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
            out += f"[{_printed(ident)}]" if isinstance(ident, str) else f"[{part}]"
        else:
            word = _where_part(part)
            out += f".{word}" if out and not word.startswith("[") else word
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
