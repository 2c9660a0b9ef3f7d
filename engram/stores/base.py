"""The ``Store`` contract every backend (SQLite, in-memory, later PostgreSQL) implements.

A store owns events, their vectors and their lexical index, the episodes that segmentation
derives from them, and the entities and facts that consolidation derives. It knows nothing
of embedding, segmenting, extracting or ranking: ``Memory`` does those, the store persists
and answers plain queries. Each event has a store-assigned integer ``seq`` (insertion
order), the key that vector indexes use; an episode is a run of consecutive seqs of one
namespace, keyed by its first seq.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from engram.core.records import Entity, Episode, Event, Fact

__all__ = [
    "USAGE_FIELDS",
    "EpisodeRow",
    "Erasure",
    "FactRow",
    "Filter",
    "Store",
    "StrengthRow",
    "Usage",
    "VectorBatch",
    "index_text",
]


def index_text(speaker: str | None, text: str) -> str:
    """What the lexical index sees: the speaker's name, then the text."""
    return f"{speaker} {text}" if speaker else text


@dataclass(frozen=True, slots=True)
class Filter:
    """Restricts a query to one session and/or half-open windows [since, until) of event time
    (``occurred_at``) and of ingest time (``recorded_at``)."""

    session: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    recorded_since: datetime | None = None
    recorded_until: datetime | None = None

    @property
    def empty(self) -> bool:
        return all(
            value is None for value in (self.session, self.since, self.until, self.recorded_since, self.recorded_until)
        )


@dataclass(frozen=True, slots=True)
class VectorBatch:
    """Index rows of a namespace: vectors, plus what filters and the lexical index need."""

    seqs: np.ndarray  # int64 [n]
    vectors: np.ndarray  # float32 [n, dim]
    occurred: np.ndarray  # float64 [n], unix seconds
    sessions: list[str | None]
    texts: list[str] = field(default_factory=list)  # index_text of each event
    recorded: np.ndarray = field(default_factory=lambda: np.zeros(0))  # float64 [n], unix seconds
    speakers: list[str | None] = field(default_factory=list)
    surprise: np.ndarray = field(default_factory=lambda: np.zeros(0))  # float64 [n], NaN: not yet known
    importance: np.ndarray = field(default_factory=lambda: np.zeros(0))  # float64 [n], NaN: not given
    ids: list[str] = field(default_factory=list)  # event ids


@dataclass(frozen=True, slots=True)
class StrengthRow:
    """The strength state of a memory that recall has returned (one never recalled has no row:
    its state follows from the record). ``kind`` is ``event``, ``episode`` or ``fact``;
    ``stability`` is in days, ``last_access`` in unix seconds."""

    kind: str
    id: str
    stability: float
    last_access: float
    accesses: int


@dataclass(frozen=True, slots=True)
class EpisodeRow:
    """An episode as stored: the record, its seq range and its centroid (float32 [dim], unit)."""

    episode: Episode
    first_seq: int
    last_seq: int
    centroid: np.ndarray


@dataclass(frozen=True, slots=True)
class FactRow:
    """A fact as stored: the record, the seqs of its source events and the unit vector of its text."""

    fact: Fact
    source_seqs: tuple[int, ...]
    vector: np.ndarray


@dataclass(frozen=True, slots=True)
class Usage:
    """What one consolidation step cost: extractor calls and LLM tokens (all zero offline)."""

    extractor: str
    events: int = 0
    batches: int = 0
    fallbacks: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Erasure:
    """What erasing events of one namespace removes (ids and counts, never text).

    ``seqs`` / ``ids`` are every event erased, in seq order: those asked for and the reflections
    ``cascaded`` with them (every one of their sources erased). ``relinked`` are the surviving
    reflections with the erased ids taken out of ``metadata["sources"]``, as (seq, metadata).
    ``facts_updated`` are the surviving facts as they become (erased sources dropped, a
    supersession by a deleted fact repaired); ``episodes`` counts the episodes deleted.
    ``scrubbed`` is False when a copy of erased rows may remain in the store's files for now
    (another connection was reading, so the write-ahead log could not be emptied).
    """

    namespace: str
    whole: bool = False  # the whole namespace: every row of it, in every table
    seqs: tuple[int, ...] = ()
    ids: tuple[str, ...] = ()
    cascaded: tuple[str, ...] = ()
    relinked: tuple[tuple[int, dict[str, Any]], ...] = ()
    facts_deleted: tuple[str, ...] = ()
    facts_updated: tuple[FactRow, ...] = ()
    entities_deleted: tuple[str, ...] = ()
    episodes: int = 0
    scrubbed: bool = True


USAGE_FIELDS = ("events", "batches", "fallbacks", "calls", "prompt_tokens", "completion_tokens", "total_tokens")


class Store(Protocol):
    """Durable home of events. Scores from ``lexical`` are BM25: higher is better.

    ``directory`` is where the store keeps its files (``None`` for one that keeps none);
    derived index files (the saved HNSW graph) go beside them.
    """

    @property
    def directory(self) -> Path | None: ...

    def bind_model(self, name: str, dim: int) -> None:
        """Record the embedding model on first use; raise ``ModelMismatch`` if another was recorded."""
        ...

    def add(self, events: Sequence[Event], vectors: np.ndarray) -> list[int]:
        """Store events atomically (all or none) and durably; return their seqs."""
        ...

    def events(self, seqs: Sequence[int]) -> list[Event]:
        """Events by seq, in the order asked; unknown seqs are skipped."""
        ...

    def get(self, event_id: str) -> Event:
        """One event by id; ``NotFound`` if absent."""
        ...

    def lexical(self, namespace: str, terms: Sequence[str], k: int, where: Filter) -> list[tuple[int, float]]:
        """Top-k (seq, BM25) for events of ``namespace`` matching any of ``terms``."""
        ...

    def vectors(self, namespace: str, after_seq: int = 0) -> VectorBatch:
        """Vectors of ``namespace`` with seq > ``after_seq``, in seq order."""
        ...

    def seqs(self, namespace: str, after_seq: int = 0) -> list[int]:
        """Seqs of ``namespace`` above ``after_seq``, ascending (no vectors read)."""
        ...

    def last_seq(self, namespace: str) -> int:
        """The highest seq stored in ``namespace`` (0 if none); cheap, for cache checks."""
        ...

    def segmentation_state(self, namespace: str, *, unless_seen: int | None = None) -> tuple[int, bytes | None]:
        """(the last seq segmentation has seen, its saved state); ``(0, None)`` before any.

        The state is left out (``None``) when the seen seq equals ``unless_seen``: a caller
        holding that state already need not read it again."""
        ...

    def save_segmentation(
        self,
        namespace: str,
        *,
        seen_seq: int,
        new_seq: int,
        state: bytes | None,
        surprise: Sequence[tuple[int, float]],
        episodes: Sequence[EpisodeRow],
    ) -> bool:
        """In one transaction: set events' surprise, upsert ``episodes`` (by first seq) and record
        segmentation as having seen ``new_seq`` — only if it has still seen exactly ``seen_seq``.
        ``state`` replaces the saved state; ``None`` keeps the one saved before (the first save
        must carry one). Returns False, changing nothing, when another writer got there first."""
        ...

    def episodes(
        self, namespace: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[EpisodeRow]:
        """Episodes of ``namespace`` overlapping [since, until) in event time, in seq order."""
        ...

    def consolidation_state(self, namespace: str) -> int:
        """The last seq consolidation has processed in ``namespace`` (0 before any)."""
        ...

    def save_consolidation(
        self,
        namespace: str,
        *,
        seen_seq: int,
        new_seq: int,
        entities: Sequence[Entity],
        facts: Sequence[FactRow],
        usage: Usage | None = None,
    ) -> bool:
        """In one transaction: upsert ``entities`` and ``facts`` (by id), append ``usage``, and
        record consolidation as having seen ``new_seq`` — only if it has still seen exactly
        ``seen_seq``. Returns False, changing nothing, when another writer got there first."""
        ...

    def entities(self, namespace: str) -> list[Entity]:
        """Entities of ``namespace``, oldest first."""
        ...

    def facts(self, namespace: str) -> list[FactRow]:
        """Facts of ``namespace`` (superseded ones included), oldest first."""
        ...

    def strengths(self, namespace: str, after_version: int = 0) -> tuple[int, list[StrengthRow]]:
        """(the namespace's strength version, the rows saved after ``after_version``).

        The version grows with every ``save_strengths``; a caller holding version ``v`` reads
        only what changed since."""
        ...

    def save_strengths(self, namespace: str, rows: Sequence[StrengthRow]) -> None:
        """Upsert strength rows (by kind and id) in one transaction, under a new version."""
        ...

    def usage(self) -> dict[str, int]:
        """Totals of every recorded ``Usage``: events, batches, fallbacks, calls and tokens."""
        ...

    def stats(self) -> dict[str, object]:
        """Counts per namespace, bytes on disk, the recorded model."""
        ...

    def erase(self, namespace: str, event_ids: Sequence[str] | None) -> Erasure:
        """Erase events of ``namespace`` for good (``None``: the whole namespace), all or nothing.

        With the events go what ``engram.stores.erasure.plan`` derives from them (reflections
        left without sources, facts left without sources, entities left without facts; the
        survivors lose the erased ids), the strength rows of what goes (the events, the facts,
        episodes that began with an erased event) and the namespace's episodes and segmentation
        state, which quote and summarise its events (the caller segments it again). Ids unknown or of
        another namespace are skipped. An erasure that removed anything counts in
        ``erasures``, and leaves no copy of what it removed in the store's files. The highest
        seqs erased may be handed out again to events stored later.
        """
        ...

    def erasures(self, namespace: str) -> int:
        """How many erasures ``namespace`` has had: caches of it built before a change are stale."""
        ...

    def close(self) -> None: ...
