"""Event types: CAMEO codes, Goldstein weights and who an event affects.

The weights come from the CAMEO event-code table with Goldstein (1992) conflict-cooperation
weights as GDELT publishes it (``data/cameo-goldstein.tsv``, shipped with the package).
A weight lies in [-10, 10]: -10 is the most conflictual act (military attack), +10 the most
cooperative (military retreat or surrender).

References:
    Goldstein, J. S. (1992). A conflict-cooperation scale for WEIS events data.
    Journal of Conflict Resolution 36(2), 369-385.
    Gerner, D. J., Schrodt, P. A., Yilmaz, O. & Abu-Jabr, R. (2002). Conflict and Mediation
    Event Observations (CAMEO) codebook.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources


class Form(StrEnum):
    """Who an event affects.

    - ``directed``: one actor acts on one target (an airstrike, a visit, aid).
    - ``symmetric``: actor and target act on each other alike (a border clash).
    - ``meeting``: the actor and every listed party meet; every pair is affected both ways.
    - ``mediation``: the actor brings exactly two parties together and earns credit from both.
    """

    DIRECTED = "directed"
    SYMMETRIC = "symmetric"
    MEETING = "meeting"
    MEDIATION = "mediation"

    @property
    def takes_parties(self) -> bool:
        """True for forms written with ``parties:``, False for those written with ``target:``."""
        return self in (Form.MEETING, Form.MEDIATION)


@dataclass(frozen=True)
class CameoCode:
    """One row of the CAMEO table: code, Goldstein weight in [-10, 10], description."""

    code: str
    goldstein: float
    description: str


@dataclass(frozen=True)
class EventType:
    """A kind of event: its CAMEO code, Goldstein weight (-10..10) and form."""

    name: str
    cameo: str
    goldstein: float
    form: Form
    description: str


@cache
def cameo_table() -> dict[str, CameoCode]:
    """The shipped CAMEO table, keyed by code (codes are strings: "045", "0871")."""
    text = resources.files("stances").joinpath("data/cameo-goldstein.tsv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return {
        row["cameo_code"]: CameoCode(
            row["cameo_code"], float(row["goldstein"]), row["description"].strip()
        )
        for row in rows
    }


# Named types: (name, CAMEO code, form, what it means). The weight is always the table's.
_NAMED: tuple[tuple[str, str, Form, str], ...] = (
    ("statement", "010", Form.DIRECTED, "public statement about the target, neutral in tone"),
    ("praise", "051", Form.DIRECTED, "praise or endorse the target"),
    ("sympathy", "018", Form.DIRECTED, "empathetic comment, e.g. condolences after an attack"),
    ("condemn", "111", Form.DIRECTED, "criticize or denounce the target"),
    ("phone_call", "041", Form.DIRECTED, "discuss by telephone"),
    ("visit", "042", Form.DIRECTED, "the actor visits the target"),
    ("host_visit", "043", Form.DIRECTED, "the actor hosts a visit by the target"),
    ("meet", "044", Form.MEETING, "meeting at a third location between the actor and parties"),
    ("negotiate", "046", Form.MEETING, "negotiations between the actor and the parties"),
    ("mediate", "045", Form.MEDIATION, "the actor mediates between two parties"),
    ("sign_agreement", "057", Form.MEETING, "the actor and the parties sign a formal agreement"),
    ("grant_recognition", "054", Form.DIRECTED, "grant formal diplomatic recognition"),
    (
        "upgrade_relations",
        "050",
        Form.SYMMETRIC,
        "upgrade or restore diplomatic relations, e.g. exchange ambassadors",
    ),
    ("accept_envoy", "050", Form.DIRECTED, "accept the target's ambassador or let it run missions"),
    ("reduce_relations", "161", Form.DIRECTED, "reduce or break diplomatic relations"),
    ("humanitarian_aid", "073", Form.DIRECTED, "provide humanitarian aid"),
    ("economic_aid", "071", Form.DIRECTED, "provide economic aid"),
    ("trade_cooperation", "061", Form.SYMMETRIC, "trade and transit cooperation"),
    ("security_cooperation", "062", Form.SYMMETRIC, "security or military cooperation"),
    ("ceasefire", "0871", Form.SYMMETRIC, "declare a truce or ceasefire"),
    ("threaten", "130", Form.DIRECTED, "threaten, not specified"),
    ("threaten_force", "138", Form.DIRECTED, "threaten to use military force"),
    ("deport", "174", Form.DIRECTED, "expel or deport the target's nationals"),
    ("mass_expulsion", "201", Form.DIRECTED, "expel the target's nationals en masse"),
    ("reject_mediation", "126", Form.DIRECTED, "reject the target's offer to mediate"),
    ("reject_proposal", "125", Form.DIRECTED, "reject the target's proposal to meet or negotiate"),
    ("border_clash", "193", Form.SYMMETRIC, "armed clash with small arms along a border"),
    ("airstrike", "195", Form.DIRECTED, "employ aerial weapons against the target's territory"),
)


@cache
def named_types() -> dict[str, EventType]:
    """The built-in named event types, keyed by name, weights from the CAMEO table."""
    table = cameo_table()
    return {
        name: EventType(name, code, table[code].goldstein, form, description)
        for name, code, form, description in _NAMED
    }


def cameo_type(code: str, form: Form = Form.DIRECTED) -> EventType:
    """An event type made straight from a CAMEO code (KeyError if the code is not in the table)."""
    row = cameo_table()[code]
    return EventType(f"cameo:{code}", code, row.goldstein, form, row.description)
