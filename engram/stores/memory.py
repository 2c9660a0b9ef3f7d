"""The in-memory twin of the SQLite store: same contract, nothing on disk. For tests and scratch use."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from engram.core.records import Entity, Event
from engram.errors import ModelMismatch, NotFound, StoreError
from engram.index.lexical import LexicalIndex
from engram.stores.base import (
    USAGE_FIELDS,
    EpisodeRow,
    Erasure,
    FactRow,
    Filter,
    StrengthRow,
    Usage,
    VectorBatch,
    index_text,
)
from engram.stores.erasure import plan

__all__ = ["InMemoryStore"]


@dataclass
class _Namespace:
    seqs: list[int]
    lexical: LexicalIndex
    episodes: dict[int, EpisodeRow] = field(default_factory=dict)  # by first seq
    segmentation: tuple[int, bytes | None] = (0, None)
    consolidated: int = 0
    entities: dict[str, Entity] = field(default_factory=dict)  # by id, in insertion order
    facts: dict[str, FactRow] = field(default_factory=dict)
    strength: dict[tuple[str, str], tuple[StrengthRow, int]] = field(default_factory=dict)  # -> (row, version)


def _number(value: float | None) -> float:
    return np.nan if value is None else float(value)


def _matches(event: Event, where: Filter) -> bool:
    if where.session is not None and event.session != where.session:
        return False
    if where.since is not None and event.occurred_at < where.since:
        return False
    if where.until is not None and event.occurred_at >= where.until:
        return False
    if where.recorded_since is not None and event.recorded_at < where.recorded_since:
        return False
    return where.recorded_until is None or event.recorded_at < where.recorded_until


class InMemoryStore:
    """Events in dicts, BM25 from ``LexicalIndex``; lost when the process ends."""

    directory: Path | None = None  # keeps no files

    def __init__(self) -> None:
        self._events: dict[int, Event] = {}
        self._vectors: dict[int, np.ndarray] = {}
        self._by_id: dict[str, int] = {}
        self._namespaces: dict[str, _Namespace] = {}
        self._model: tuple[str, int] | None = None
        self._next = 1
        self._strength_version = 0
        self._usage: list[tuple[str, Usage]] = []  # (namespace, usage)
        self._erasures: dict[str, int] = {}
        self._lock = threading.RLock()

    def bind_model(self, name: str, dim: int) -> None:
        with self._lock:
            if self._model is None:
                self._model = (name, dim)
            elif self._model != (name, dim):
                raise ModelMismatch(f"store was built with {self._model[0]!r}; refusing vectors from {name!r}")

    def add(self, events: Sequence[Event], vectors: np.ndarray) -> list[int]:
        with self._lock:
            duplicate = [e.id for e in events if e.id in self._by_id]
            if duplicate or len({e.id for e in events}) < len(events):
                raise StoreError(f"duplicate event id {duplicate[:1]}")
            seqs = list(range(self._next, self._next + len(events)))
            self._next += len(events)
            for seq, event, vector in zip(seqs, events, vectors, strict=True):
                self._events[seq] = event
                self._vectors[seq] = np.asarray(vector, dtype=np.float32).copy()
                self._by_id[event.id] = seq
                ns = self._namespaces.setdefault(event.namespace, _Namespace([], LexicalIndex()))
                ns.seqs.append(seq)
                ns.lexical.add([index_text(event.speaker, event.text)])
            return seqs

    def events(self, seqs: Sequence[int]) -> list[Event]:
        with self._lock:
            return [self._events[s] for s in seqs if s in self._events]

    def get(self, event_id: str) -> Event:
        with self._lock:
            if event_id not in self._by_id:
                raise NotFound(f"no event with id {event_id!r}")
            return self._events[self._by_id[event_id]]

    def lexical(self, namespace: str, terms: Sequence[str], k: int, where: Filter) -> list[tuple[int, float]]:
        with self._lock:
            ns = self._namespaces.get(namespace)
            if ns is None or not terms:
                return []
            allow = None if where.empty else np.array([_matches(self._events[s], where) for s in ns.seqs], dtype=bool)
            return [(ns.seqs[row], score) for row, score in ns.lexical.search(terms, k, allow)]

    def vectors(self, namespace: str, after_seq: int = 0) -> VectorBatch:
        with self._lock:
            ns = self._namespaces.get(namespace)
            seqs = [s for s in (ns.seqs if ns else []) if s > after_seq]
            dim = self._model[1] if self._model else 0
            return VectorBatch(
                seqs=np.array(seqs, dtype=np.int64),
                vectors=np.stack([self._vectors[s] for s in seqs]) if seqs else np.zeros((0, dim), np.float32),
                occurred=np.array([self._events[s].occurred_at.timestamp() for s in seqs], dtype=np.float64),
                sessions=[self._events[s].session for s in seqs],
                texts=[index_text(self._events[s].speaker, self._events[s].text) for s in seqs],
                recorded=np.array([self._events[s].recorded_at.timestamp() for s in seqs], dtype=np.float64),
                speakers=[self._events[s].speaker for s in seqs],
                surprise=np.array([_number(self._events[s].surprise) for s in seqs], dtype=np.float64),
                importance=np.array([_number(self._events[s].importance) for s in seqs], dtype=np.float64),
                ids=[self._events[s].id for s in seqs],
            )

    def seqs(self, namespace: str, after_seq: int = 0) -> list[int]:
        with self._lock:
            ns = self._namespaces.get(namespace)
            return [s for s in (ns.seqs if ns else []) if s > after_seq]

    def last_seq(self, namespace: str) -> int:
        with self._lock:
            ns = self._namespaces.get(namespace)
            return ns.seqs[-1] if ns and ns.seqs else 0

    def segmentation_state(self, namespace: str, *, unless_seen: int | None = None) -> tuple[int, bytes | None]:
        with self._lock:
            ns = self._namespaces.get(namespace)
            seen, state = ns.segmentation if ns else (0, None)
            return (seen, None) if seen == unless_seen else (seen, state)

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
        with self._lock:
            ns = self._namespaces.get(namespace)
            if ns is None or ns.segmentation[0] != seen_seq:
                return False
            if state is None and ns.segmentation[1] is None:
                raise StoreError(f"the first segmentation save of namespace {namespace!r} must carry a state")
            ns.segmentation = (new_seq, bytes(state) if state is not None else ns.segmentation[1])
            for seq, value in surprise:
                if seq in self._events:
                    self._events[seq] = dataclasses.replace(self._events[seq], surprise=value)
            for row in episodes:
                ns.episodes[row.first_seq] = row
            return True

    def episodes(
        self, namespace: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[EpisodeRow]:
        with self._lock:
            ns = self._namespaces.get(namespace)
            rows = [ns.episodes[first] for first in sorted(ns.episodes)] if ns else []
        return [
            row
            for row in rows
            if (since is None or row.episode.ended_at >= since) and (until is None or row.episode.started_at < until)
        ]

    def consolidation_state(self, namespace: str) -> int:
        with self._lock:
            ns = self._namespaces.get(namespace)
            return ns.consolidated if ns else 0

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
        with self._lock:
            ns = self._namespaces.get(namespace)
            if ns is None or ns.consolidated != seen_seq:
                return False
            ns.consolidated = new_seq
            ns.entities.update((e.id, e) for e in entities)
            ns.facts.update((row.fact.id, row) for row in facts)
            if usage is not None:
                self._usage.append((namespace, usage))
            return True

    def entities(self, namespace: str) -> list[Entity]:
        with self._lock:
            ns = self._namespaces.get(namespace)
            return list(ns.entities.values()) if ns else []

    def facts(self, namespace: str) -> list[FactRow]:
        with self._lock:
            ns = self._namespaces.get(namespace)
            rows = list(ns.facts.values()) if ns else []
        return sorted(rows, key=lambda row: (row.fact.recorded_at, row.fact.id))

    def strengths(self, namespace: str, after_version: int = 0) -> tuple[int, list[StrengthRow]]:
        with self._lock:
            ns = self._namespaces.get(namespace)
            changed = sorted(
                ((v, row) for row, v in (ns.strength.values() if ns else []) if v > after_version), key=lambda c: c[0]
            )
            version = max([after_version, *(v for v, _ in changed)])
            return version, [row for _, row in changed]

    def save_strengths(self, namespace: str, rows: Sequence[StrengthRow]) -> None:
        if not rows:
            return
        with self._lock:
            ns = self._namespaces.setdefault(namespace, _Namespace([], LexicalIndex()))
            self._strength_version += 1
            for row in rows:
                ns.strength[(row.kind, row.id)] = (row, self._strength_version)

    def usage(self) -> dict[str, int]:
        with self._lock:
            return {name: sum(getattr(u, name) for _, u in self._usage) for name in USAGE_FIELDS}

    def stats(self) -> dict[str, object]:
        with self._lock:
            counts = {name: len(ns.seqs) for name, ns in sorted(self._namespaces.items())}
            facts = [row.fact for ns in self._namespaces.values() for row in ns.facts.values()]
            return {
                "backend": "memory",
                "path": None,
                "events": sum(counts.values()),
                "episodes": sum(len(ns.episodes) for ns in self._namespaces.values()),
                "entities": sum(len(ns.entities) for ns in self._namespaces.values()),
                "facts": len(facts),
                "current_facts": sum(f.valid_to is None for f in facts),
                "llm_usage": self.usage(),
                "namespaces": counts,
                "model": self._model[0] if self._model else None,
                "dim": self._model[1] if self._model else None,
                "bytes": sum(v.nbytes for v in self._vectors.values()),
            }

    def erasures(self, namespace: str) -> int:
        with self._lock:
            return self._erasures.get(namespace, 0)

    def erase(self, namespace: str, event_ids: Sequence[str] | None) -> Erasure:
        with self._lock:
            ns = self._namespaces.get(namespace)
            if ns is None:
                return Erasure(namespace, whole=event_ids is None)
            if event_ids is None:
                targets = {seq: self._events[seq].id for seq in ns.seqs}
            else:
                mine = set(ns.seqs)
                found = (self._by_id.get(i) for i in event_ids)
                targets = {seq: self._events[seq].id for seq in found if seq in mine}
            events = [] if event_ids is None else [(seq, self._events[seq]) for seq in ns.seqs]
            erasure = plan(
                namespace,
                targets,
                events,
                list(ns.facts.values()),
                list(ns.entities.values()),
                whole=event_ids is None,
                episodes=len(ns.episodes),
            )
            if erasure.seqs or erasure.whole:
                self._apply_erasure(ns, erasure)
                self._erasures[namespace] = self._erasures.get(namespace, 0) + 1
            return erasure  # scrubbed: nothing is kept anywhere else

    def _apply_erasure(self, ns: _Namespace, erasure: Erasure) -> None:
        for seq in erasure.seqs:
            event = self._events.pop(seq)
            del self._vectors[seq], self._by_id[event.id]
        if erasure.whole:
            del self._namespaces[erasure.namespace]
            self._usage = [(space, u) for space, u in self._usage if space != erasure.namespace]
            return
        for seq, metadata in erasure.relinked:
            self._events[seq] = dataclasses.replace(self._events[seq], metadata=metadata)
        gone = set(erasure.seqs)
        ns.seqs = [seq for seq in ns.seqs if seq not in gone]
        ns.lexical = LexicalIndex()  # its rows are positions in ns.seqs: rebuilt over the survivors
        ns.lexical.add([index_text(self._events[s].speaker, self._events[s].text) for s in ns.seqs])
        for fact_id in erasure.facts_deleted:
            del ns.facts[fact_id]
        ns.facts.update((row.fact.id, row) for row in erasure.facts_updated)
        for entity_id in erasure.entities_deleted:
            del ns.entities[entity_id]
        erased = set(erasure.ids)
        begun = [row.episode.id for row in ns.episodes.values() if row.episode.first_event_id in erased]
        for key in [("event", i) for i in erasure.ids] + [("fact", i) for i in erasure.facts_deleted]:
            ns.strength.pop(key, None)
        for episode_id in begun:  # the episodes that began with an erased event are gone for good
            ns.strength.pop(("episode", episode_id), None)
        ns.episodes.clear()
        ns.segmentation = (0, None)
        ns.consolidated = max((s for s in ns.seqs if s <= ns.consolidated), default=0)  # as the SQLite store does

    def close(self) -> None:
        pass
