"""Erasure: ``Memory.forget`` removes events for good, with everything derived from them.

Fading is automatic and reversible; erasure is explicit and irreversible. ``Store.erase``
deletes the events in one transaction together with what ``engram.stores.erasure.plan``
derives from them (reflections and facts left without sources, entities left without facts)
and the namespace's episodes and segmentation state, since gists quote events and centroids,
participants and the segmenter's predictor are computed from them. The namespace is then
segmented again from nothing (``resegment``) with the settings it was segmented with, which
costs one pass over its remaining stored vectors (O(events of the namespace), no embedding).
From nothing, segmentation is deterministic: it gives the episodes a store holding only the
remaining events would have.

A dry run (``preview``) reads the same rows through the ``Store`` protocol, plans with the
same function and segments the remaining vectors without saving, so it reports what an
erasure would do. The report carries ids and counts, never text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engram.cognition.episodes import EpisodeTracker, catch_up
from engram.cognition.recall import RecallConfig
from engram.config import DEFAULT_TOP_K
from engram.core import validate
from engram.errors import InvalidInput, StoreError
from engram.index.words import saved_files
from engram.perception.embedders import Embedder
from engram.perception.segmentation import SegmentationConfig
from engram.stores.base import Erasure, Store, VectorBatch
from engram.stores.erasure import events_by_seq, plan

__all__ = [
    "ForgetReport",
    "Target",
    "count_episodes",
    "delete_graph",
    "plain",
    "preview",
    "report",
    "resegment",
    "saved_config",
    "target",
]


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What ``Memory.forget`` erased (or, with ``dry_run``, would erase) from one namespace.

    ``event_ids`` are every event erased (those targeted and the reflections cascaded with
    them), in the order they were stored. ``scrubbed`` tells that no copy is left in the
    store's files (False for a dry run, or when another connection's read kept the write-ahead
    log from being emptied: it is emptied at a later checkpoint).
    """

    namespace: str
    dry_run: bool
    whole_namespace: bool
    event_ids: tuple[str, ...]
    cascaded: int  # reflections erased because every one of their sources was
    relinked: int  # surviving reflections that lost erased sources
    facts_deleted: int
    facts_updated: int
    entities: int  # entities deleted
    episodes_before: int
    episodes_after: int
    scrubbed: bool

    @property
    def events(self) -> int:
        """How many events were erased (cascaded reflections included)."""
        return len(self.event_ids)

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "event_ids": list(self.event_ids), "events": self.events}


@dataclass(frozen=True, slots=True)
class Target:
    """What to erase: one event (``event_id``), the top ``k`` matches of ``query`` in
    ``namespace``, or, with neither, the whole ``namespace``."""

    namespace: str | None
    event_id: str | None = None
    query: str | None = None
    k: int = DEFAULT_TOP_K


def target(event_id: str | None, *, query: str | None, namespace: str | None, k: int) -> Target:
    """The checked target of a ``forget`` call.

    Raises:
        InvalidInput: no target, or both an event id and a query.
    """
    if event_id is not None and query is not None:
        raise InvalidInput("forget takes an event id or a query, not both")
    if event_id is None and query is None and namespace is None:
        raise InvalidInput("forget needs a target: an event id, a query, or a namespace to erase whole")
    space = None if namespace is None else validate.namespace(namespace)
    if event_id is not None:
        return Target(space, event_id=validate.text(event_id, "event_id"))
    if query is not None:
        return Target(space or "default", query=validate.text(query, "query"), k=validate.top_k(k))
    return Target(space)


def plain(config: RecallConfig) -> RecallConfig:
    """``config`` with only dense and lexical fusion deciding: what a query to erase by matches.

    Time cues, participants, facts, neighbours, episodes, the in-context, related-words and
    topic rankings and the demotion of questions would pull in (or push out) events for what
    surrounds them rather than for resembling the query; strength would rank by how well
    events are held and leave faded ones out, though they are stored all the same."""
    return dataclasses.replace(
        config,
        time_cues=False,
        participants=False,
        facts=False,
        contiguity=False,
        episodes=False,
        in_context=False,
        related_words=False,
        topic=False,
        questions=False,
        strength=False,
        include_faded=True,
    )


def delete_graph(path: Path | None) -> None:
    """Delete a namespace's saved HNSW graph and its companions, the word vectors among them
    (they hold erased vectors and words).

    Raises:
        StoreError: a file could not be deleted (the store's rows are erased already).
    """
    if path is None:
        return
    try:
        leftovers = (path, path.with_suffix(".json"), path.with_suffix(".tmp"), path.with_suffix(".json.tmp"))
        for leftover in (*leftovers, *saved_files(path)):
            leftover.unlink(missing_ok=True)
    except OSError as exc:
        raise StoreError(f"erased from the store, but cannot delete the saved graph {path}: {exc}") from exc


def saved_config(
    store: Store, embedder: Embedder, namespace: str, default: SegmentationConfig | None
) -> SegmentationConfig | None:
    """The settings ``namespace`` was segmented with (``default`` if it never was)."""
    _, state = store.segmentation_state(namespace)
    return EpisodeTracker.from_bytes(state, embedder).segmenter.config if state else default


def resegment(store: Store, embedder: Embedder, namespace: str, config: SegmentationConfig | None) -> EpisodeTracker:
    """Segment ``namespace`` again from its first event, after an erasure deleted its episodes.

    A fresh state with ``config`` is saved first, so a writer in another process that
    segments the namespace before this call does keeps its settings too.
    """
    fresh = EpisodeTracker.new(embedder, config)
    store.save_segmentation(namespace, seen_seq=0, new_seq=0, state=fresh.to_bytes(), surprise=(), episodes=())
    return catch_up(store, embedder, namespace, None, config=config)


def count_episodes(embedder: Embedder, batch: VectorBatch, config: SegmentationConfig | None) -> int:
    """How many episodes segmenting ``batch`` from nothing gives (what ``resegment`` saves)."""
    if not len(batch.seqs):
        return 0
    _, starts = EpisodeTracker.new(embedder, config).advance(batch)
    return len(starts)


def preview(
    store: Store, embedder: Embedder, namespace: str, event_ids: list[str] | None, default: SegmentationConfig | None
) -> ForgetReport:
    """What erasing ``event_ids`` (``None``: every event) of ``namespace`` would do; changes nothing."""
    seqs = store.seqs(namespace)
    events = events_by_seq(store, seqs)
    if event_ids is None:
        targets = {seq: e.id for seq, e in events.items()}
    else:
        wanted = set(event_ids)
        targets = {seq: e.id for seq, e in events.items() if e.id in wanted}
    before = len(store.episodes(namespace))
    erasure = plan(
        namespace,
        targets,
        [] if event_ids is None else events.items(),
        store.facts(namespace),
        store.entities(namespace),
        whole=event_ids is None,
        episodes=before,
    )
    after = before
    if erasure.seqs:
        batch = store.vectors(namespace)
        kept = ~np.isin(batch.seqs, np.array(erasure.seqs, dtype=np.int64))
        config = saved_config(store, embedder, namespace, default)
        after = 0 if erasure.whole else count_episodes(embedder, _rows(batch, kept), config)
    return report(erasure, dry_run=True, episodes_before=before, episodes_after=after)


def report(erasure: Erasure, *, dry_run: bool, episodes_before: int, episodes_after: int) -> ForgetReport:
    return ForgetReport(
        namespace=erasure.namespace,
        dry_run=dry_run,
        whole_namespace=erasure.whole,
        event_ids=erasure.ids,
        cascaded=len(erasure.cascaded),
        relinked=len(erasure.relinked),
        facts_deleted=len(erasure.facts_deleted),
        facts_updated=len(erasure.facts_updated),
        entities=len(erasure.entities_deleted),
        episodes_before=episodes_before,
        episodes_after=episodes_after,
        scrubbed=erasure.scrubbed and not dry_run,
    )


def _rows(batch: VectorBatch, keep: np.ndarray) -> VectorBatch:
    """The rows of ``batch`` where ``keep`` is true (in every column that has a value per row)."""
    where = np.flatnonzero(keep).tolist()

    def pick(column: Any) -> Any:  # an array or a list; one left empty stays so
        if len(column) != len(keep):
            return column
        return column[keep] if isinstance(column, np.ndarray) else [column[i] for i in where]

    return VectorBatch(**{f.name: pick(getattr(batch, f.name)) for f in dataclasses.fields(batch)})
