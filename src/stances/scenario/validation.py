"""Validating a Doc against the file models: pydantic's errors as problems at file:line:col,
in this format's words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from stances.catalogue import Form, named_types
from stances.errors import Problem, shown, suggest
from stances.scenario.document import Doc, KeyPath, problem


def _fields_at(tp: Any, loc: Iterable[str | int]) -> list[str]:
    """The keys a mapping at loc (inside type tp) may hold, for suggestions."""
    for part in (*loc, None):
        while get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        if (
            get_origin(tp) in (Union, type(None) | int)
            or str(get_origin(tp)) == "<class 'types.UnionType'>"
        ):
            models = [a for a in get_args(tp) if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else tp
        if part is None:
            break
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(str(part))
            tp = info.annotation if info else None
        elif get_origin(tp) in (dict, list):
            tp = get_args(tp)[-1]
        else:
            return []
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _as_written(doc: Doc, loc: KeyPath) -> KeyPath:
    """The key path as it stands in the file: a `[0]` that validation added to a single value
    written where a list is also allowed (stance_shift: {...}) is dropped."""
    out: list[str | int] = []
    node: Any = doc.data
    for part in loc:
        if isinstance(part, int) and isinstance(node, dict):
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def declared(doc: Doc, section: str) -> set[str]:
    """Names a section of the file declares, valid or not (so a broken declaration is
    reported once, not again by everything that uses it)."""
    raw = doc.data.get(section)
    return set(raw) if isinstance(raw, dict) else set()


def _pydantic_problems(doc: Doc, prefix: KeyPath, tp: Any, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = _as_written(doc, (*prefix, *err["loc"]))
        if err["type"] == "extra_forbidden":
            options = _fields_at(tp, err["loc"][:-1])
            problems.append(
                problem(
                    doc, loc, f"unknown key '{loc[-1]}'" + suggest(str(loc[-1]), options), key=True
                )
            )
        elif err["type"] == "missing":
            problems.append(problem(doc, loc[:-1], f"missing required key '{loc[-1]}'"))
        elif (hint := _parties_hint(doc, loc, err)) is not None:
            problems.append(problem(doc, loc, hint, key=True))
        else:
            problems.append(problem(doc, loc, message_of(err)))
    return problems


def _node_at(doc: Doc, loc: KeyPath) -> Any:
    """What the file holds at loc (None where the path leads nowhere)."""
    node: Any = doc.data
    for part in loc:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def _form_of(doc: Doc, name: object) -> str | None:
    """The form ('meeting', 'mediation', ...) of the event type called name: a built-in one's,
    or the `form:` a file's own type declares; None when unknown."""
    if not isinstance(name, str):
        return None
    kind = named_types().get(name)
    if kind is not None:
        return str(kind.form)
    own = doc.data.get("event_types")
    entry = own.get(name) if isinstance(own, dict) else None
    form = entry.get("form") if isinstance(entry, dict) else None
    return form if isinstance(form, str) else None


def _parties_hint(doc: Doc, loc: KeyPath, err: Mapping[str, Any]) -> str | None:
    """For a list written as the `target:` of a meeting or mediation, what to write instead
    (`parties:`); None for any other problem."""
    if not loc or loc[-1] != "target" or not isinstance(err.get("input"), list):
        return None
    event = _node_at(doc, loc[:-1])
    if not isinstance(event, dict):
        return None
    name = event.get("type")
    form = event.get("form") if "cameo" in event else _form_of(doc, name)
    name = name if isinstance(name, str) else "this event"
    if form == str(Form.MEDIATION):
        return f"{name} takes parties: [A, B] (a mediation acts on two parties), not target:"
    if form == str(Form.MEETING):
        return (
            f"{name} takes parties: [A, B, ...] (a meeting joins the actor and its parties), "
            "not target:"
        )
    return None


def message_of(err: Mapping[str, Any]) -> str:
    """pydantic's message, in the words of this format where they differ."""
    ctx, got = err.get("ctx") or {}, err.get("input")
    if err["type"] in ("less_than_equal", "greater_than_equal", "greater_than", "less_than"):
        bound = next(iter(ctx.values()))
        word = {
            "less_than_equal": "at most",
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than": "less than",
        }[err["type"]]
        return f"must be {word} {bound}, got {shown(got)}"
    if err["type"] == "finite_number":
        return f"expected a finite number, got {shown(got)}"
    if err["type"] in ("float_type", "int_type", "float_parsing", "int_parsing"):
        kind = "a whole number" if err["type"].startswith("int") else "a number"
        return f"expected {kind}, got {shown(got)}"
    if err["type"] == "string_type":
        return f"expected text, got {shown(got)}"
    if err["type"] in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping (key: value lines), got {shown(got)}"
    if err["type"] == "list_type":
        return f"expected a list, got {shown(got)}"
    if err["type"] == "enum":
        return f"expected one of {ctx.get('expected')}, got {shown(got)}"
    return str(err["msg"]).removeprefix("Value error, ")


def validate_value(doc: Doc, path: KeyPath, tp: Any, value: Any, problems: list[Problem]) -> Any:
    """Validate value as tp; on failure record the problems and return None.

    A mapping with unknown keys is validated again without them, so that the checks that
    need the rest of it (actor ids, dates, types) still run and every problem shows at once.
    """
    try:
        return TypeAdapter(tp).validate_python(value)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(doc, path, tp, exc))
        unknown = {
            e["loc"][0]
            for e in exc.errors()
            if e["type"] == "extra_forbidden" and len(e["loc"]) == 1
        }
        if isinstance(value, dict) and unknown and len(unknown) == len(exc.errors()):
            try:
                return TypeAdapter(tp).validate_python(
                    {k: v for k, v in value.items() if k not in unknown}
                )
            except ValidationError:
                return None
        return None


def validate_entries(doc: Doc, key: str, tp: Any, problems: list[Problem]) -> dict[str, Any]:
    """Validate a mapping section entry by entry; the valid entries, in file order."""
    raw = doc.data.get(key)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(problem(doc, (key,), "expected a mapping"))
        return {}
    out = {}
    for name, value in raw.items():
        checked = validate_value(doc, (key, name), tp, value, problems)
        if checked is not None:
            out[name] = checked
    return out
