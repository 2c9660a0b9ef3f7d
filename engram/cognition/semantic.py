"""Semantic memory of one namespace in process: entity resolution and fact bookkeeping.

``SemanticMemory`` holds a namespace's entities and facts while consolidation folds new
claims into them, and records which rows changed so the caller can save just those.

Entity resolution (``resolve``) is deterministic: a surface name joins an entity when its
normalised form (``normalise_name``) equals the entity's name or one of its aliases, or when
its embedding is at least ``MERGE_THRESHOLD`` cosine-similar to the entity's name and the
types agree (or one is unknown). Entities never span namespaces: each namespace has its own
``SemanticMemory``.

Facts (``add``), in order of precedence:

1. *Merge*: a current fact with the same subject, predicate and normalised object absorbs
   the new one (its sources are added, confidence combined as 1 − (1 − a)(1 − b)).
2. *Supersession*: for a single-valued predicate (``SINGLE_VALUED``: one home, one employer,
   one job, one age at a time) or the opposite predicate on the same object (likes vs
   dislikes), the current fact ends where the new one starts: it gets ``valid_to`` and
   ``superseded_by``; nothing is deleted. A claim older than the current fact (ingested out
   of order) is stored already ended, superseded by the newer one.
3. *Insert*: otherwise the fact is new. "moved to X" also yields "lives in X".
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from engram.core.records import Entity, Fact, new_id
from engram.stores.base import FactRow

__all__ = [
    "MERGE_THRESHOLD",
    "OPPOSITES",
    "SINGLE_VALUED",
    "SemanticMemory",
    "about",
    "normalise_name",
    "normalise_object",
    "profile_facts",
    "profile_text",
]

# Cosine between MiniLM embeddings of two names at or above which they are one entity. On the
# 45 labelled name pairs of ``engram.eval.entities`` the closest distinct pair ("Jordan" /
# "Michael Jordan") is at 0.828: precision/recall 0.94/0.75 at 0.80, 1.0/0.55 at 0.85.
MERGE_THRESHOLD = 0.85
SINGLE_VALUED = frozenset({"lives_in", "works_at", "works_as", "age"})
OPPOSITES = {"likes": "dislikes", "dislikes": "likes"}
IMPLIES = {"moved_to": "lives_in"}  # a move to X means living in X from then on
_DROP = re.compile(r"[^\w\s]|_")
_LEADING = re.compile(r"^(?:the|a|an|my|our|his|her|their)\s+")

Embed = Callable[[Sequence[str]], np.ndarray]


def normalise_name(name: str) -> str:
    """Case-folded, possessive and punctuation stripped, leading determiner dropped ("The Met's" → "met")."""
    text = _DROP.sub(" ", name.casefold().replace("'s ", " ").removesuffix("'s"))
    return _LEADING.sub("", " ".join(text.split()))


def normalise_object(text: str) -> str:
    """Objects compare like names (so "a dog" and "dog" are one object)."""
    return normalise_name(text)


@dataclass
class SemanticMemory:
    """Entities and facts of one namespace, with the ids changed since ``take_changes``."""

    namespace: str
    dim: int
    entities: dict[str, Entity] = field(default_factory=dict)
    facts: dict[str, FactRow] = field(default_factory=dict)
    threshold: float = MERGE_THRESHOLD
    created: int = 0  # entities created by this process
    _by_name: dict[str, str] = field(default_factory=dict)  # normalised name or alias -> entity id
    _rows: list[str] = field(default_factory=list)  # entity id per row of _matrix
    _matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # grown by doubling
    # (subject id, predicate) -> normalised object -> id of the current fact
    _current: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    _changed_entities: set[str] = field(default_factory=set)
    _changed_facts: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, namespace: str, dim: int, entities: Sequence[Entity], facts: Sequence[FactRow]) -> SemanticMemory:
        memory = cls(namespace, dim)
        for entity in entities:
            memory._index_entity(entity)
        for row in facts:
            memory.facts[row.fact.id] = row
            if row.fact.current:
                key = (row.fact.subject_id, row.fact.predicate)
                memory._current.setdefault(key, {})[normalise_object(row.fact.object)] = row.fact.id
        return memory

    # -- entities -------------------------------------------------------------------------

    def _index_entity(self, entity: Entity) -> None:
        known = entity.id in self.entities
        self.entities[entity.id] = entity
        for name in (entity.name, *entity.aliases):
            self._by_name.setdefault(normalise_name(name), entity.id)
        if not known and entity.embedding is not None:
            if len(self._rows) == len(self._matrix):
                grown = np.zeros((max(16, 2 * len(self._rows)), len(entity.embedding)), np.float32)
                if self._rows:
                    grown[: len(self._rows)] = self._matrix[: len(self._rows)]
                self._matrix = grown
            self._matrix[len(self._rows)] = entity.embedding
            self._rows.append(entity.id)

    def find(self, name: str) -> Entity | None:
        """The entity a name or alias denotes (exact normalised match), or None."""
        entity_id = self._by_name.get(normalise_name(name))
        return self.entities[entity_id] if entity_id else None

    def resolve(self, names: Sequence[tuple[str, str | None]], embed: Embed) -> list[str]:
        """Entity ids for ``(surface name, type)`` pairs, creating entities for new names.

        Names with no exact match are embedded in one batch and merged into the most similar
        entity of a compatible type at or above ``threshold``.
        """
        unknown = list(dict.fromkeys(n for n, _ in names if normalise_name(n) not in self._by_name))
        vectors = dict(zip(unknown, embed(unknown), strict=True)) if unknown else {}
        return [self._resolve_one(name, kind, vectors.get(name)) for name, kind in names]

    def _resolve_one(self, name: str, kind: str | None, vector: np.ndarray | None) -> str:
        key = normalise_name(name)
        entity = self.find(name)
        if entity is None and vector is not None:
            entity = self._nearest(vector, kind)
            if entity is not None:
                entity = dataclasses.replace(entity, aliases=(*entity.aliases, name))
        if entity is None:
            entity = Entity(new_id(), self.namespace, name, (), kind, 0, vector)
            self.created += 1
        entity = dataclasses.replace(entity, mentions=entity.mentions + 1, type=entity.type or kind)
        self._index_entity(entity)
        self._by_name[key] = entity.id
        self._changed_entities.add(entity.id)
        return entity.id

    def _nearest(self, vector: np.ndarray, kind: str | None) -> Entity | None:
        """The most similar entity of a compatible type at or above ``threshold``, or None."""
        if not self._rows:
            return None
        sims = self._matrix[: len(self._rows)] @ vector
        near = np.flatnonzero(sims >= self.threshold)  # usually none or a few: no full sort
        for row in near[np.argsort(-sims[near], kind="stable")].tolist():
            entity = self.entities[self._rows[row]]
            if kind is None or entity.type is None or entity.type == kind:
                return entity
        return None

    # -- facts ----------------------------------------------------------------------------

    def add(self, fact: Fact, source_seq: int, vector: np.ndarray) -> str:
        """Fold one new fact in; return what happened: ``"merged"``, ``"superseded"`` or ``"inserted"``."""
        same = self._same(fact)
        if same is not None:
            self._merge(same, fact, source_seq)
            return "merged"
        row = FactRow(fact, (source_seq,), vector)
        outcome = "inserted"
        for rival in self._rivals(fact):
            row, ended = self._supersede(self.facts[rival], row)
            outcome = "superseded" if ended else outcome
        self._put(row)
        return outcome

    def _same(self, fact: Fact) -> FactRow | None:
        fact_id = self._current.get((fact.subject_id, fact.predicate), {}).get(normalise_object(fact.object))
        return self.facts[fact_id] if fact_id else None

    def _merge(self, row: FactRow, fact: Fact, source_seq: int) -> None:
        old = row.fact
        if fact.sources[0] in old.sources:
            return  # the same event again (a replay): nothing new
        merged = dataclasses.replace(
            old,
            sources=(*old.sources, *fact.sources),
            confidence=round(1 - (1 - old.confidence) * (1 - fact.confidence), 6),
            valid_from=min(old.valid_from, fact.valid_from),
            when=old.when or fact.when,
        )
        self._put(FactRow(merged, (*row.source_seqs, source_seq), row.vector))

    def _rivals(self, fact: Fact) -> list[str]:
        """Current facts the new one contradicts."""
        rivals: list[str] = []
        if fact.predicate in SINGLE_VALUED:
            rivals += self._current.get((fact.subject_id, fact.predicate), {}).values()
        opposite = OPPOSITES.get(fact.predicate)
        if opposite:
            same = self._current.get((fact.subject_id, opposite), {}).get(normalise_object(fact.object))
            rivals += [same] if same else []
        return rivals

    def _supersede(self, old: FactRow, new: FactRow) -> tuple[FactRow, bool]:
        """End whichever of ``old`` and ``new`` started first; return the new row and whether ``old`` ended."""
        if old.fact.valid_from <= new.fact.valid_from:
            ended = dataclasses.replace(old.fact, valid_to=new.fact.valid_from, superseded_by=new.fact.id)
            self._put(FactRow(ended, old.source_seqs, old.vector))
            return new, True
        late = dataclasses.replace(new.fact, valid_to=old.fact.valid_from, superseded_by=old.fact.id)
        return FactRow(late, new.source_seqs, new.vector), False

    def _put(self, row: FactRow) -> None:
        fact = row.fact
        current = self._current.setdefault((fact.subject_id, fact.predicate), {})
        target = normalise_object(fact.object)
        if fact.current:
            current[target] = fact.id
        elif current.get(target) == fact.id:
            del current[target]
        self.facts[fact.id] = row
        self._changed_facts.add(fact.id)

    # -- reading --------------------------------------------------------------------------

    def take_changes(self) -> tuple[list[Entity], list[FactRow]]:
        """The entities and facts changed since the last call (then forgets them)."""
        entities = [self.entities[i] for i in sorted(self._changed_entities)]
        facts = [self.facts[i] for i in sorted(self._changed_facts)]
        self._changed_entities.clear()
        self._changed_facts.clear()
        return entities, facts

    def valid(self, at: datetime | None) -> list[Fact]:
        """Facts current now (``at`` None) or valid at ``at``."""
        rows = (row.fact for row in self.facts.values())
        return [f for f in rows if (f.current if at is None else f.valid_at(at))]


def about(facts: Sequence[Fact], entity_id: str) -> list[Fact]:
    """Facts whose subject or object is the entity ``entity_id``."""
    return [f for f in facts if entity_id in (f.subject_id, f.object_id)]


def profile_facts(facts: Sequence[Fact], subject_id: str) -> dict[str, tuple[Fact, ...]]:
    """The current facts with subject ``subject_id`` by predicate, best supported first.

    "Stable" here means current (not superseded): a profile is what is true now.
    """
    grouped: dict[str, list[Fact]] = {}
    for fact in facts:
        if fact.current and fact.subject_id == subject_id:
            grouped.setdefault(fact.predicate, []).append(fact)
    order = sorted(grouped, key=lambda p: (-sum(len(f.sources) for f in grouped[p]), p))
    return {p: tuple(sorted(grouped[p], key=lambda f: (-len(f.sources), -f.confidence, f.valid_from))) for p in order}


def profile_text(subject: str, facts: dict[str, tuple[Fact, ...]], *, per_predicate: int = 5) -> str:
    """Prompt-ready profile lines: ``Caroline lives in: Lisbon``, one predicate a line."""
    lines = [
        f"{subject} {predicate.replace('_', ' ')}: " + "; ".join(f.object for f in group[:per_predicate])
        for predicate, group in facts.items()
    ]
    return "\n".join(lines)
