"""The Store contract for semantic memory (entities, facts, consolidation state, usage), on every backend."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engram.core.records import Entity, Event, Fact, new_id
from engram.stores.base import FactRow, Usage
from engram.stores.memory import InMemoryStore
from engram.stores.sqlite import SQLiteStore

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _store_with_events(store, n: int = 3) -> list[int]:
    store.bind_model("m", 4)
    events = [Event(id=new_id(), namespace="ns", text=f"t{i}", occurred_at=T0, recorded_at=T0) for i in range(n)]
    return store.add(events, np.eye(n, 4, dtype=np.float32))


def _fact(subject_id: str, obj: str, *, sources: tuple[str, ...] = ("e1",), valid_to: datetime | None = None) -> Fact:
    return Fact(
        id=new_id(),
        namespace="ns",
        subject="Ann",
        predicate="lives_in",
        object=obj,
        subject_id=subject_id,
        object_id=None,
        valid_from=T0,
        valid_to=valid_to,
        confidence=0.8,
        sources=sources,
        recorded_at=T0,
    )


def _row(fact: Fact, seqs: tuple[int, ...] = (1,)) -> FactRow:
    return FactRow(fact, seqs, np.array([1, 0, 0, 0], dtype=np.float32))


def test_consolidation_saves_only_from_the_state_it_saw(store) -> None:
    seqs = _store_with_events(store)
    ann = Entity(new_id(), "ns", "Ann", ("Annie",), "person", 2, np.array([0, 1, 0, 0], dtype=np.float32))
    fact = _fact(ann.id, "Berlin")
    assert store.consolidation_state("ns") == 0
    assert store.save_consolidation("ns", seen_seq=0, new_seq=seqs[1], entities=[ann], facts=[_row(fact)])
    assert store.consolidation_state("ns") == seqs[1]
    stale = _fact(ann.id, "Paris")
    assert not store.save_consolidation("ns", seen_seq=0, new_seq=seqs[2], entities=[], facts=[_row(stale)])
    assert [row.fact for row in store.facts("ns")] == [fact]
    [back] = store.entities("ns")
    assert back == ann and np.array_equal(back.embedding, ann.embedding)


def test_facts_upsert_by_id_and_keep_superseded_rows(store) -> None:
    seqs = _store_with_events(store)
    old = _fact("ann", "Berlin")
    store.save_consolidation("ns", seen_seq=0, new_seq=seqs[0], entities=[], facts=[_row(old)])
    new = _fact("ann", "Lisbon")
    ended = Fact(**{**{f: getattr(old, f) for f in Fact.__slots__}, "valid_to": T0, "superseded_by": new.id})
    store.save_consolidation("ns", seen_seq=seqs[0], new_seq=seqs[1], entities=[], facts=[_row(ended), _row(new)])
    rows = {row.fact.object: row.fact for row in store.facts("ns")}
    assert set(rows) == {"Berlin", "Lisbon"}
    assert rows["Berlin"].superseded_by == new.id and not rows["Berlin"].current and rows["Lisbon"].current
    stats = store.stats()
    assert (stats["facts"], stats["current_facts"]) == (2, 1)


def test_seqs_lists_a_namespace_past_a_seq(store) -> None:
    seqs = _store_with_events(store)
    assert store.seqs("ns") == seqs and store.seqs("ns", after_seq=seqs[0]) == seqs[1:]
    assert store.seqs("other") == []


def test_usage_is_summed_across_saves(store) -> None:
    seqs = _store_with_events(store)
    first = Usage("llm:m", events=10, batches=1, calls=2, prompt_tokens=100, completion_tokens=20, total_tokens=120)
    second = Usage("llm:m", events=5, batches=1, fallbacks=1, calls=3, total_tokens=7)
    store.save_consolidation("ns", seen_seq=0, new_seq=seqs[0], entities=[], facts=[], usage=first)
    store.save_consolidation("ns", seen_seq=seqs[0], new_seq=seqs[1], entities=[], facts=[], usage=second)
    assert store.usage() == {
        "events": 15,
        "batches": 2,
        "fallbacks": 1,
        "calls": 5,
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "total_tokens": 127,
    }
    assert store.stats()["llm_usage"]["calls"] == 5


def test_semantic_memory_is_per_namespace(store) -> None:
    seqs = _store_with_events(store)
    store.save_consolidation("ns", seen_seq=0, new_seq=seqs[0], entities=[], facts=[_row(_fact("ann", "Rome"))])
    assert store.facts("other") == [] and store.entities("other") == [] and store.consolidation_state("other") == 0


moments = st.datetimes(
    min_value=datetime(1950, 1, 1), max_value=datetime(2150, 1, 1), timezones=st.just(timezone(timedelta(hours=2)))
)
names = st.text(min_size=1, max_size=30).filter(lambda t: "\x00" not in t)


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
@settings(max_examples=30, deadline=None)
@given(
    obj=names,
    valid_from=moments,
    valid_to=st.none() | moments,
    when=st.none() | st.sampled_from(["2023-05-07", "2023-W22", "2023-06", "2022"]),
    sources=st.lists(st.uuids().map(lambda u: u.hex), min_size=1, max_size=4).map(tuple),
    confidence=st.floats(min_value=0.01, max_value=1.0),
)
def test_facts_round_trip_exactly(backend, obj, valid_from, valid_to, when, sources, confidence) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = SQLiteStore(directory) if backend == "sqlite" else InMemoryStore()
        seqs = _store_with_events(store)
        fact = Fact(
            id=new_id(),
            namespace="ns",
            subject="Ann",
            predicate="likes",
            object=obj,
            subject_id="e-ann",
            object_id="e-obj",
            valid_from=valid_from,
            valid_to=valid_to,
            confidence=confidence,
            sources=sources,
            recorded_at=T0,
            superseded_by=None if valid_to is None else "f-next",
            when=when,
            extractor="llm:test",
        )
        store.save_consolidation("ns", seen_seq=0, new_seq=seqs[0], entities=[], facts=[_row(fact, tuple(seqs))])
        [row] = store.facts("ns")
        assert row.fact == fact and row.source_seqs == tuple(seqs)
        assert row.fact.valid_from.utcoffset() == valid_from.utcoffset()
        store.close()
