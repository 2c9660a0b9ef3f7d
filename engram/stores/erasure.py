"""What erasing events takes with it: the reflections and facts drawn from them, and who they named.

``plan`` is pure. Both stores call it inside their erase transaction, over the rows they read
there, and ``Memory.forget(dry_run=True)`` calls it over the same rows read through the
``Store`` protocol, so a dry run reports exactly what an erasure would do. The rules:

- a reflection (``metadata["kind"] == "reflection"``) all of whose ``metadata["sources"]`` are
  erased is erased too, and so on recursively (a reflection on reflections); a surviving one
  loses the erased ids from its sources;
- a fact all of whose sources are erased is deleted; a surviving one loses the erased ids
  (``sources``) and seqs (``source_seqs``);
- a surviving fact superseded by a deleted fact takes the deleted fact's successor as its own
  (ending where that one starts), or, when there is none, becomes current again;
- an entity that a deleted fact named and no surviving fact names is deleted.

Erasing a whole namespace deletes all of its facts and entities.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from engram.core.records import Entity, Event, Fact
from engram.stores.base import Erasure, FactRow, Store

__all__ = ["events_by_seq", "plan"]


def plan(
    namespace: str,
    targets: Mapping[int, str],
    events: Iterable[tuple[int, Event]],
    facts: Sequence[FactRow],
    entities: Sequence[Entity],
    *,
    whole: bool = False,
    episodes: int = 0,
) -> Erasure:
    """What erasing ``targets`` (seq -> id) of ``namespace`` removes and changes.

    ``events`` are the namespace's events that may be reflections, as (seq, event) (any
    superset of the reflections will do); ``facts`` and ``entities`` are all of the
    namespace's; ``episodes`` is how many episodes it has (all of them go when anything does).
    """
    if not targets and not whole:
        return Erasure(namespace)
    reflections = {seq: e for seq, e in events if _is_reflection(e)}
    erased, cascaded = _cascade(dict(targets), reflections)
    ids, seqs = set(erased.values()), set(erased)
    relinked = tuple(
        (seq, {**e.metadata, "sources": [s for s in _sources(e) if s not in ids]})
        for seq, e in sorted(reflections.items())
        if seq not in seqs and ids.intersection(_sources(e))
    )
    deleted = [row.fact.id for row in facts if whole or _orphaned(row.fact, ids)]
    gone = set(deleted)
    updated = () if whole else _surviving(facts, gone, ids, seqs)
    order = sorted(erased)
    return Erasure(
        namespace,
        whole=whole,
        seqs=tuple(order),
        ids=tuple(erased[seq] for seq in order),
        cascaded=cascaded,
        relinked=relinked,
        facts_deleted=tuple(deleted),
        facts_updated=updated,
        entities_deleted=tuple(e.id for e in entities) if whole else _orphan_entities(facts, gone, entities),
        episodes=episodes,
    )


def _is_reflection(event: Event) -> bool:
    # The same test as ``engram.cognition.consolidate.is_reflection``; stores sit below cognition.
    return event.metadata.get("kind") == "reflection"


def _sources(event: Event) -> list[str]:
    sources = event.metadata.get("sources")
    return [s for s in sources if isinstance(s, str)] if isinstance(sources, list) else []


def _cascade(erased: dict[int, str], reflections: dict[int, Event]) -> tuple[dict[int, str], tuple[str, ...]]:
    """``erased`` (seq -> id) grown by every reflection whose sources are all erased, until none is
    left to add; and the ids of the reflections added, in the order they fell."""
    ids = set(erased.values())
    pending = {seq: e for seq, e in reflections.items() if seq not in erased}
    cascaded: list[str] = []
    while True:
        fallen = [seq for seq, e in pending.items() if _sources(e) and ids.issuperset(_sources(e))]
        if not fallen:
            return erased, tuple(cascaded)
        for seq in fallen:
            event = pending.pop(seq)
            erased[seq] = event.id
            ids.add(event.id)
            cascaded.append(event.id)


def _orphaned(fact: Fact, ids: set[str]) -> bool:
    """Whether every source of ``fact`` is erased (a fact with no recorded sources is left alone)."""
    return bool(fact.sources) and ids.issuperset(fact.sources)


def _surviving(facts: Sequence[FactRow], deleted: set[str], ids: set[str], seqs: set[int]) -> tuple[FactRow, ...]:
    """The surviving facts that change: erased sources dropped, supersession links repaired."""
    by_id = {row.fact.id: row.fact for row in facts}
    changed = []
    for row in facts:
        if row.fact.id in deleted:
            continue
        fact = dataclasses.replace(row.fact, sources=tuple(s for s in row.fact.sources if s not in ids))
        fact = _relink(fact, by_id, deleted)
        source_seqs = tuple(q for q in row.source_seqs if q not in seqs)
        if fact != row.fact or source_seqs != row.source_seqs:
            changed.append(FactRow(fact, source_seqs, row.vector))
    return tuple(changed)


def _relink(fact: Fact, by_id: dict[str, Fact], deleted: set[str]) -> Fact:
    """``fact`` superseded by the first surviving successor along the deleted ones, or current again."""
    if fact.superseded_by not in deleted:
        return fact
    successor: str | None = fact.superseded_by
    for _ in range(len(deleted)):  # bounded: a chain of deleted facts is at most all of them
        if successor not in deleted:
            break
        successor = by_id[successor].superseded_by
    if successor is None or successor in deleted:
        return dataclasses.replace(fact, valid_to=None, superseded_by=None)
    ends = by_id[successor].valid_from if successor in by_id else fact.valid_to
    return dataclasses.replace(fact, valid_to=ends, superseded_by=successor)


def _orphan_entities(facts: Sequence[FactRow], deleted: set[str], entities: Sequence[Entity]) -> tuple[str, ...]:
    """Entities a deleted fact named that no surviving fact names."""
    named: set[str | None] = set()
    kept: set[str | None] = set()
    for row in facts:
        (named if row.fact.id in deleted else kept).update((row.fact.subject_id, row.fact.object_id))
    return tuple(e.id for e in entities if e.id in named and e.id not in kept)


def events_by_seq(store: Store, seqs: Sequence[int]) -> dict[int, Event]:
    """The events of ``seqs`` that still exist, by seq.

    ``Store.events`` skips unknown seqs, so when an erasure (in another thread or process)
    removed some between a ranking and this read, the rest are matched one by one.
    """
    events = store.events(seqs)
    if len(events) == len(seqs):
        return dict(zip(seqs, events, strict=True))
    return {seq: found[0] for seq in seqs if (found := store.events([seq]))}
