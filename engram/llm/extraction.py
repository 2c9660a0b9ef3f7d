"""What every fact extractor reads and writes, offline (rules) or with an LLM.

An extractor reads ``Utterance``s (one event each) and returns ``Claim``s: subject-predicate-
object triples in Engram's predicate vocabulary, each pointing back to the utterance it came
from. Consolidation turns claims into ``Fact``s (entity resolution, supersession, merging).

Predicate vocabulary (``PREDICATES``):

=============  ==========================================================
is             identity or standing attribute ("transgender", "student")
age            age in years
from           origin: country, city, home town
lives_in       current place of residence
moved_to       a move to a place
visited        a place visited or travelled to
works_as       job title or role ("shooting guard")
works_at       employer, team or organisation
studies        field or place of study
has_child      a child (name, or "son"/"daughter"/"kids")
has_pet        a pet (name, or species)
has_relative   other family: parents, siblings, grandparents, cousins
partner_of     spouse or partner (name, or "husband"/"wife"/...)
friend_of      a named friend
likes          preference, hobby, favourite, fan of
dislikes       aversion
allergic_to    allergy
plans          intention or scheduled future activity
owns           possession, including things bought or got
attended       an event attended (group, workshop, concert)
did            any other dated activity or life event
=============  ==========================================================

Conventions: ``subject`` is a name, with first person ("I", "my") resolved to the speaker;
``object`` is a short canonical noun phrase; ``when`` is the time of the stated event resolved
against the utterance's ``said_at``, as an ISO date (``2023-05-07``), ISO week (``2023-W22``),
month (``2023-06``) or year (``2022``), and ``None`` for timeless facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["OBJECT_TYPES", "PREDICATES", "Claim", "Extractor", "Utterance"]

PREDICATES: frozenset[str] = frozenset(
    {
        "is",
        "age",
        "from",
        "lives_in",
        "moved_to",
        "visited",
        "works_as",
        "works_at",
        "studies",
        "has_child",
        "has_pet",
        "has_relative",
        "partner_of",
        "friend_of",
        "likes",
        "dislikes",
        "allergic_to",
        "plans",
        "owns",
        "attended",
        "did",
    }
)
# What the object of a claim names, when it names a thing of its own (an entity of the graph);
# None for plain values ("painting", "32", "transgender").
OBJECT_TYPES: frozenset[str] = frozenset({"person", "place", "organisation", "pet", "thing"})


@dataclass(frozen=True, slots=True)
class Utterance:
    """One event as an extractor sees it. ``key`` is the event id claims point back to."""

    key: str
    text: str
    speaker: str | None
    said_at: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    """One extracted triple, with the utterance it came from (``source`` = ``Utterance.key``).

    ``object_type`` is one of ``OBJECT_TYPES`` when the object names an entity (a person, a
    place, a pet …), else ``None``. ``confidence`` is in (0, 1].
    """

    subject: str
    predicate: str
    object: str
    source: str
    when: str | None = None
    object_type: str | None = None
    confidence: float = 1.0


class Extractor(Protocol):
    """Reads utterances, returns the claims they state (in utterance order).

    ``name`` identifies the extractor in provenance and reports ("rules", "llm:<model>").
    An extractor that fails raises (``LLMError`` …); it never returns an empty list for a
    failure.
    """

    name: str

    def extract(self, utterances: Sequence[Utterance]) -> list[Claim]: ...
