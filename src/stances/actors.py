"""Actors (one ``mesa.Agent`` per state) and their policies: how an actor decides to act.

A policy is a small class with one method, ``decide(actor) -> list of events``, in the manner of
strategies in the Axelrod library. The scripted policy does nothing of its own: every event comes
from the scenario file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import mesa

if TYPE_CHECKING:
    from stances.model import StanceModel
    from stances.scenario import Event


class Policy(ABC):
    """How an actor chooses its own events each step. Subclasses set ``name`` and ``decide``."""

    name: ClassVar[str] = "policy"
    classifier: ClassVar[dict[str, object]] = {"acts": False, "stochastic": False}

    @abstractmethod
    def decide(self, actor: Actor) -> list[Event]:
        """The events the actor starts this step (after the scripted ones, before decay)."""


class Scripted(Policy):
    """Does nothing of its own: the actor only acts when the scenario file says so."""

    name = "scripted"

    def decide(self, actor: Actor) -> list[Event]:
        return []


class Actor(mesa.Agent):
    """A state: its id (e.g. 'IND'), display name, row/column index and policy."""

    model: StanceModel

    def __init__(self, model: StanceModel, actor_id: str, name: str, policy: Policy | None = None):
        super().__init__(model)
        self.actor_id = actor_id
        self.name = name
        self.index = model.spec.index(actor_id)
        self.policy = policy or Scripted()

    def step(self) -> None:
        """Take this step's own decisions (Mesa calls this through ``shuffle_do``)."""
        for event in self.policy.decide(self):
            self.model.apply(event, origin="decided")

    def regard(self, other: str, member: int = 0) -> float:
        """How this actor regards another, in [-1, 1]."""
        return float(self.model.R[member, self.index, self.model.spec.index(other)])

    @property
    def regard_given(self) -> float:
        """Mean of this actor's views of the others (member 0), in [-1, 1]."""
        row = self.model.R[0, self.index]
        return float((row.sum() - row[self.index]) / (len(row) - 1))

    @property
    def regard_received(self) -> float:
        """Mean of the others' views of this actor (member 0), in [-1, 1]."""
        col = self.model.R[0, :, self.index]
        return float((col.sum() - col[self.index]) / (len(col) - 1))
