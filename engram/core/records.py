"""Records: what Engram stores and returns. Pure data, no I/O."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

__all__ = ["Context", "Entity", "Episode", "EpisodeHit", "Event", "Fact", "Hit", "Profile", "new_id", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(timezone.utc)


_last = (0, 0)
_id_lock = threading.Lock()


def new_id() -> str:
    """A time-ordered 128-bit id as 32 hex characters: 48 bits of milliseconds, a 16-bit
    counter within the millisecond, 64 random bits.

    Ids made by one process sort in the order they were made (a batch shares its
    millisecond), like UUIDv7, so ``ORDER BY id`` is ingest order.
    """
    global _last
    with _id_lock:
        millis = max(time.time_ns() // 1_000_000, _last[0])
        counter = _last[1] + 1 if millis == _last[0] else 0
        if counter > 0xFFFF:
            millis, counter = millis + 1, 0
        _last = (millis, counter)
    return f"{millis:012x}{counter:04x}{os.urandom(8).hex()}"


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened: a message, an observation, a tool result.

    ``occurred_at`` is when it happened (event time); ``recorded_at`` is when Engram stored it
    (ingest time). Both are timezone-aware. ``surprise`` in [0, 1] is how badly the stream's
    online predictor expected it (``None`` until segmentation has seen it); ``importance`` in
    [0, 1] is what the writer said it matters (``None``: not said). Both raise its salience,
    and so how slowly it fades.
    """

    id: str
    namespace: str
    text: str
    occurred_at: datetime
    recorded_at: datetime
    speaker: str | None = None
    session: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    surprise: float | None = None
    importance: float | None = None


@dataclass(frozen=True, slots=True)
class Episode:
    """A run of consecutive events of one namespace that belong together (one "event" in the
    psychological sense: a conversation, a task, a scene), cut where surprise peaked.

    ``started_at`` / ``ended_at`` span the events' ``occurred_at``; ``recorded_at`` is when
    its first event was stored. ``boundary`` says why it starts: ``"first"`` (the stream's
    first event), ``"session"`` (the session label changed), ``"time_gap"`` (a long pause),
    ``"surprise"`` (the predictor was surprised and the similarity graph agreed) or
    ``"length"`` (the episode reached its size limit). ``gist`` is extractive: the events
    closest to the episode's centroid. The newest episode of a namespace is open
    (``closed=False``) and keeps growing until a boundary closes it.
    """

    id: str
    namespace: str
    started_at: datetime
    ended_at: datetime
    recorded_at: datetime
    event_count: int
    first_event_id: str
    last_event_id: str
    participants: tuple[str, ...]
    gist: str
    boundary: str
    closed: bool


@dataclass(frozen=True, slots=True)
class Hit:
    """A recalled event with its fused score and the component scores behind it.

    ``components`` names each retriever that found the event with its raw score and rank,
    e.g. ``{"dense": 0.62, "dense_rank": 1, "lexical": 7.9, "lexical_rank": 4}``.
    """

    event: Event
    score: float
    components: Mapping[str, float] = field(default_factory=dict)

    def why(self) -> str:
        """A one-line human explanation of the score: each retriever's rank and raw score, then
        what the later stages added (episode evidence, neighbours, time and speaker cues)."""
        c = self.components
        parts = [f"{key[:-5]} #{int(c[key])} ({c[key[:-5]]:.3f})" for key in c if key.endswith("_rank")]
        if c.get("episode"):
            parts.append(f"its episode +{c['episode']:.3f}")
        if "contiguity" in c:
            parts.append("next to a hit" if c["contiguity"] > 0 else "just before a hit")
        if "dates" in c:
            parts.append("dates a hit")
        if "dated" in c:
            parts.append("mentions a time")
        if "order" in c:
            parts.append(f"earlier/later first ×{c['order']:.2f}")
        if "participant" in c:
            parts.append("speaker named in the query")
        if "question" in c:
            parts.append(f"only asks ×{c['question']:.2f}")
        if "fact" in c:
            parts.append("via a fact")
        if "copies" in c:
            parts.append(f"said {int(c['copies'])} times")
        return f"score {self.score:.4f} = " + (" + ".join(parts) if parts else "no component")


@dataclass(frozen=True, slots=True)
class EpisodeHit:
    """A recalled episode with its fused score and the rankings behind it.

    ``components`` holds, for each ranking that found the episode, its raw score and rank:
    ``events`` (its best event in event recall), ``dense`` (centroid cosine), ``lexical``
    (BM25 of the episode as one document) and ``feedback`` (centroid cosine to the query
    widened towards the top episodes); ``window`` is 1 or 0 when the query names a time window.
    """

    episode: Episode
    score: float
    components: Mapping[str, float] = field(default_factory=dict)

    def why(self) -> str:
        """A one-line human explanation of the score."""
        c = self.components
        parts = [f"{key[:-5]} #{int(c[key])}" for key in c if key.endswith("_rank")]
        return f"score {self.score:.4f} = " + (" + ".join(parts) if parts else "no component")


@dataclass(frozen=True, slots=True)
class Context:
    """A prompt-ready block of memories packed into a token budget.

    ``events`` are the events the block holds, in the order they appear (chronological
    within each session); ``tokens`` is the block's estimated size.
    """

    text: str
    events: tuple[Event, ...]
    tokens: int
    budget_tokens: int


@dataclass(frozen=True, slots=True)
class Entity:
    """A person, place, organisation, pet or thing that facts are about, in one namespace.

    ``name`` is the canonical name (the first surface form seen); ``aliases`` are the other
    surface forms resolved to it ("Mel", "my sister"). ``type`` is one of ``person``,
    ``place``, ``organisation``, ``pet``, ``thing`` or ``None`` when unknown. ``embedding`` is
    the unit vector of ``name`` used for resolution (not compared, not shown).
    """

    id: str
    namespace: str
    name: str
    aliases: tuple[str, ...] = ()
    type: str | None = None
    mentions: int = 1
    embedding: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Fact:
    """A subject-predicate-object triple of semantic memory, valid over ``[valid_from, valid_to)``.

    ``subject`` / ``object`` are surface names; ``subject_id`` (and ``object_id`` when the
    object is an entity) point at ``Entity`` records. ``sources`` are the ids of the events the
    fact came from (provenance). A fact replaced by a newer one ("moved to Lisbon" after
    "lives in Berlin") keeps its row: it gets ``valid_to`` and ``superseded_by`` (the new fact's
    id); nothing is deleted. ``when`` is the stated time of the fact's event as written by the
    extractor (ISO day, week, month or year), ``extractor`` which extractor produced it.
    """

    id: str
    namespace: str
    subject: str
    predicate: str
    object: str
    subject_id: str
    object_id: str | None
    valid_from: datetime
    valid_to: datetime | None
    confidence: float
    sources: tuple[str, ...]
    recorded_at: datetime
    superseded_by: str | None = None
    when: str | None = None
    extractor: str = "rules"

    @property
    def current(self) -> bool:
        """True while no newer fact has replaced this one."""
        return self.valid_to is None

    def valid_at(self, moment: datetime) -> bool:
        """Whether the fact held at ``moment`` (``valid_from <= moment < valid_to``)."""
        return self.valid_from <= moment and (self.valid_to is None or moment < self.valid_to)

    def text(self) -> str:
        """The fact as a short sentence ("Caroline lives in Lisbon")."""
        return f"{self.subject} {self.predicate.replace('_', ' ')} {self.object}"


@dataclass(frozen=True, slots=True)
class Profile:
    """The stable, current facts about one subject of a namespace (MemoryBank's "user portrait").

    ``facts`` maps each predicate to its current facts, best supported first; ``text`` is the
    profile as prompt-ready lines.
    """

    namespace: str
    subject: str
    facts: Mapping[str, tuple[Fact, ...]]
    text: str
