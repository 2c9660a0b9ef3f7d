"""Strength at work over one namespace's index: what recall strengthens, what has faded, and
the ``Strength`` of any event, episode or fact. The curves are in ``strength``; the row-aligned
state in ``engram.index.strength``. Nothing here locks or writes: ``Memory`` saves the
returned rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from engram.cognition import strength as curve
from engram.cognition.association import facts_of_rows
from engram.cognition.strength import Strength
from engram.core.records import Event
from engram.errors import NotFound
from engram.index.namespace import NamespaceIndex
from engram.index.strength import state_of
from engram.stores.base import StrengthRow

__all__ = [
    "episode_state",
    "event_strength",
    "other_strength",
    "rehearse_episodes",
    "rehearse_events",
    "rehearse_facts",
    "take_surprise",
    "unfaded",
]


def rehearse_events(index: NamespaceIndex, events: Sequence[Event], at: datetime) -> list[StrengthRow]:
    """Strengthen recalled events (the testing effect); the rows to save."""
    known = [e.id for e in events if e.id in index.strength.row_of]
    rows = np.array([index.strength.row_of[i] for i in known], dtype=np.int64)
    return index.strength.recall(rows, known, at.timestamp())


def take_surprise(index: NamespaceIndex, rows: np.ndarray, events: Sequence[Event | None]) -> None:
    """Set the surprise segmentation has since decided for ``rows`` (``events`` aligned, None: erased)."""
    decided = [(row, e.surprise) for row, e in zip(rows.tolist(), events, strict=True) if e and e.surprise is not None]
    if decided:
        where, values = zip(*decided, strict=True)
        index.strength.set_surprise(np.array(where), np.array(values, dtype=np.float64))


def rehearse_facts(index: NamespaceIndex, seqs: Sequence[int], at: datetime) -> list[StrengthRow]:
    """Strengthen the facts through which recall reached the events ``seqs``; the rows to save."""
    graph = index.graph
    if graph is None or not len(graph) or not seqs:
        return []
    rows = []
    for f in facts_of_rows(graph, index.rows_of(list(seqs))).tolist():
        formed = float(graph.formed[f])
        changed = index.strength.recall_other(
            "fact", graph.ids[f], formed, formed, float(graph.salience[f]), at.timestamp()
        )
        if changed is not None:
            rows.append(changed)
    return rows


def episode_state(index: NamespaceIndex, position: int) -> tuple[float, float, float]:
    """(formed, last presented, salience) of an episode: its span and its most salient event."""
    episode = index.episodes[position].episode
    rows = index.episode_rows(position)
    salient = index.strength.salience(np.arange(rows.start, rows.stop))
    return episode.started_at.timestamp(), episode.ended_at.timestamp(), float(salient.max(initial=0.0))


def rehearse_episodes(index: NamespaceIndex, positions: Sequence[int], at: datetime) -> list[StrengthRow]:
    """Strengthen recalled episodes; the rows to save."""
    rows = []
    for e in positions:
        changed = index.strength.recall_other(
            "episode", index.episodes[e].episode.id, *episode_state(index, e), at.timestamp()
        )
        if changed is not None:
            rows.append(changed)
    return rows


def unfaded(
    index: NamespaceIndex, ranked: list[tuple[int, float, dict[str, float]]], qvec: np.ndarray, at: datetime, cue: float
) -> list[tuple[int, float, dict[str, float]]]:
    """Ranked episodes (position, score, components) less those faded at ``at`` whose centroid
    is not within cosine ``cue`` of the query."""
    kept = []
    for e, score, parts in ranked:
        recalled = index.strength.others.get(("episode", index.episodes[e].episode.id))
        stability, last, _ = state_of(recalled, *episode_state(index, e))
        faded = float(curve.retention(stability, at.timestamp() - last)) < curve.FADED
        if not faded or float(index.centroids[e] @ qvec) >= cue:
            kept.append((e, score, parts))
    return kept


def event_strength(index: NamespaceIndex, event_id: str, at: float) -> Strength:
    """The strength of an indexed event at ``at`` (unix seconds)."""
    table = index.strength
    row = table.row_of[event_id]
    rows = np.array([row])
    return _strength(
        "event",
        event_id,
        float(table.stability(rows)[0]),
        float(table.last_access[row]),
        int(table.accesses[row]),
        float(table.salience(rows)[0]),
        float(table.formed[row]),
        at,
    )


def other_strength(index: NamespaceIndex, namespace: str, item_id: str, at: float) -> Strength:
    """The strength of an episode or fact of the namespace at ``at``.

    Raises:
        NotFound: no episode or fact has that id.
    """
    kind, formed, last_presented, salience = _other_item(index, namespace, item_id)
    stability, last, accesses = state_of(index.strength.others.get((kind, item_id)), formed, last_presented, salience)
    return _strength(kind, item_id, stability, last, accesses, salience, formed, at)


def _other_item(index: NamespaceIndex, namespace: str, item_id: str) -> tuple[str, float, float, float]:
    """(kind, formed, last presented, salience) of an episode or fact; a fact's come from the
    fact graph (formed at its ``valid_from``, salience from its confidence and source count)."""
    for position, row in enumerate(index.episodes):
        if row.episode.id == item_id:
            return ("episode", *episode_state(index, position))
    graph = index.graph
    if graph is not None and item_id in graph.ids:
        f = graph.ids.index(item_id)
        return "fact", float(graph.formed[f]), float(graph.formed[f]), float(graph.salience[f])
    raise NotFound(f"no event, episode or fact with id {item_id!r} in namespace {namespace!r}")


def _strength(
    kind: str, item_id: str, stability: float, last: float, accesses: int, salience: float, formed: float, at: float
) -> Strength:
    retention = float(curve.retention(stability, at - last))
    activation = float(curve.activation(formed, last, accesses, salience, at))
    return Strength(kind, item_id, stability, last, accesses, salience, retention, activation, retention < curve.FADED)
