"""The one grammar of dotted keys, shared by ``set:`` in files, ``--set`` and ``--vary``.

``parameters.memory_half_life``, ``relations.AFG -> PAK``, ``time.end``,
``actors.CHN.policy.cost``, ``events.paktika-strike.until``: the first part names a section,
the rest a key inside it. Keys of ``relations`` and ``baseline`` hold spaces and arrows, so
everything after the first dot is one key there; ``events.ID.FIELD`` names one field of the
event with that id (an id may hold dots, so the field is what follows the last one).
"""

from __future__ import annotations

from stances.errors import shown, suggest
from stances.scenario.document import Doc, KeyPath

MERGED_SECTIONS = (
    "time",
    "actors",
    "relations",
    "baseline",
    "parameters",
    "event_types",
    "issues",
    "observations",
)
SETTABLE_WHOLE = ("title", "description", "seed")  # set as a whole: no keys inside them
SETTABLE = (*SETTABLE_WHOLE, *MERGED_SECTIONS, "events")


def settable_path(doc: Doc, dotted: str) -> tuple[KeyPath | None, str]:
    """The key path a dotted `set:` key names, or None and the reason."""
    section, _, rest = dotted.partition(".")
    if section not in SETTABLE:
        return (
            None,
            f"cannot set {shown(dotted)}: {shown(section)} is not a section that can be set"
            + suggest(section, SETTABLE),
        )
    if section in SETTABLE_WHOLE:
        return ((section,), "") if not rest else (None, f"'{section}' has no keys inside it")
    if not rest:
        return None, f"say which key of '{section}' to set, e.g. '{section}.<key>'"
    if section in ("relations", "baseline"):
        return (section, rest), ""
    if section == "events":
        return _event_field(doc, rest)
    return (section, *rest.split(".")), ""


def _event_field(doc: Doc, rest: str) -> tuple[KeyPath | None, str]:
    """The key path of `events.ID.FIELD` (`rest` is 'ID.FIELD'; an id may hold dots, a field
    does not): one field of the event with that id, which must already be in the scenario."""
    ident, _, name = rest.rpartition(".")
    events = doc.data.get("events")
    ids = [e.get("id") for e in events if isinstance(e, dict)] if isinstance(events, list) else []
    if not ident or not name:
        return None, "say which field of which event to set, e.g. 'events.<id>.until'"
    if ident not in ids:
        known = [i for i in ids if isinstance(i, str)]
        return None, f"no event has id {shown(ident)}" + suggest(ident, known)
    return ("events", ids.index(ident), name), ""


def parse_cli_set(text: str) -> tuple[str, str]:
    """Split 'KEY=VALUE' from the command line; ValueError with the reason if it is not."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(
            f"--set {text!r}: expected KEY=VALUE, e.g. --set parameters.memory_half_life='52 weeks'"
        )
    return key.strip(), value.strip()


def parse_vary(text: str) -> tuple[str, list[str]]:
    """'parameters.kappa_observer=0.1,0.2' -> ('parameters.kappa_observer', ['0.1', '0.2'])."""
    key, sep, values = text.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not key.strip() or not items:
        raise ValueError(
            f"--vary {text!r}: expected KEY=V1,V2,..., e.g. --vary parameters.kappa_observer=0.1,0.2"
        )
    twice = sorted({v for v in items if items.count(v) > 1})
    if twice:
        raise ValueError(f"--vary {key.strip()}: {', '.join(twice)} listed twice")
    return key.strip(), items
