"""Associative recall: the fact graph, spreading activation, and document expansion in recall."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from twins import TwinExtractor

from engram import HashEmbedder, Memory, RecallConfig
from engram.cognition import association
from engram.cognition.association import build_graph, expand_dense, rank_by_facts, seeds, spread
from engram.core.records import Entity, Fact, new_id
from engram.errors import InvalidInput
from engram.stores.base import FactRow

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _entity(name: str) -> Entity:
    return Entity(new_id(), "ns", name, (), "person", 1, None)


def _row(subject: Entity, obj: Entity | None, seq: int, vector: list[float], *, current: bool = True) -> FactRow:
    fact = Fact(
        id=new_id(),
        namespace="ns",
        subject=subject.name,
        predicate="friend_of",
        object=obj.name if obj else "x",
        subject_id=subject.id,
        object_id=obj.id if obj else None,
        valid_from=T0,
        valid_to=None if current else T0 + timedelta(days=1),
        confidence=1.0,
        sources=(f"e{seq}",),
        recorded_at=T0,
    )
    return FactRow(fact, (seq,), np.array(vector, dtype=np.float32))


def test_activation_spreads_two_hops_and_decays() -> None:
    ann, bob, cid, dan = (_entity(n) for n in ("Ann", "Bob", "Cid", "Dan"))
    rows = [
        _row(ann, bob, 1, [1, 0]),  # Ann - Bob: one hop from Ann
        _row(bob, cid, 2, [1, 0]),  # Bob - Cid: two hops
        _row(dan, None, 3, [1, 0]),  # unrelated
    ]
    graph = build_graph([ann, bob, cid, dan], rows, {1: 0, 2: 1, 3: 2}, dim=2)
    start = seeds(graph, "What does Ann's friend do?")
    assert start.tolist() == [1.0, 0.0, 0.0, 0.0]
    assert spread(graph, start).tolist() == [1.0, association.DECAY, 0.0]


def test_seeds_match_multi_word_names_and_aliases() -> None:
    city = Entity(new_id(), "ns", "New York City", ("NYC",), "place", 1, None)
    graph = build_graph([city], [], {}, dim=2)
    assert seeds(graph, "trips to new york city?").tolist() == [1.0]
    assert seeds(graph, "what about NYC").tolist() == [1.0]
    assert seeds(graph, "york").tolist() == [0.0]


def test_superseded_facts_rank_below_current_ones() -> None:
    ann = _entity("Ann")
    rows = [_row(ann, None, 1, [1, 0], current=False), _row(ann, None, 2, [1, 0])]
    graph = build_graph([ann], rows, {1: 0, 2: 1}, dim=2)
    ranked = rank_by_facts(graph, np.array([1, 0], dtype=np.float32), "Ann", 10, None)
    assert [row for row, _ in ranked] == [1, 0]
    assert ranked[1][1] == pytest.approx(association.SUPERSEDED * ranked[0][1])


def test_allow_mask_hides_facts_of_filtered_events() -> None:
    ann = _entity("Ann")
    graph = build_graph([ann], [_row(ann, None, 1, [1, 0]), _row(ann, None, 2, [1, 0])], {1: 0, 2: 1}, dim=2)
    ranked = rank_by_facts(graph, np.array([1, 0], dtype=np.float32), "Ann", 10, np.array([False, True]))
    assert [row for row, _ in ranked] == [1]


def test_expand_dense_takes_the_better_of_event_and_fact() -> None:
    dense = [(10, 0.9), (11, 0.5)]
    merged, lifted = expand_dense(dense, [(12, 1.0), (11, 0.1)], depth=3)
    assert merged == [(10, 0.9), (12, association.FACT_SCALE * 1.0), (11, 0.5)]
    assert lifted == {12}


def test_a_fact_brings_an_event_that_shares_no_word_with_the_query(tmp_path) -> None:
    isolated = RecallConfig(
        episodes=False, contiguity=False, strength=False
    )  # the fact stage alone beside dense and lexical
    mem = Memory(tmp_path / "m", embedder=HashEmbedder(dim=256), extractor=TwinExtractor(), recall=isolated)
    filler = [f"Ann talked about the weather and the news, day {i}" for i in range(30)]
    items = [{"text": t, "speaker": "Ann", "occurred_at": T0 + timedelta(hours=i)} for i, t in enumerate(filler)]
    items.insert(12, {"text": "my dog Pico chewed a shoe", "speaker": "Ann", "occurred_at": T0 + timedelta(hours=40)})
    events = mem.remember_many(items, namespace="ann")
    target = events[12].id
    query = "which pet"

    def rank_of_target(memory: Memory) -> int:
        ids = [h.event.id for h in memory.recall(query, namespace="ann", k=30)]
        return ids.index(target) if target in ids else 99

    no_facts = RecallConfig(episodes=False, contiguity=False, facts=False, strength=False)
    plain = Memory(tmp_path / "m", embedder=HashEmbedder(dim=256), recall=no_facts)
    before = rank_of_target(plain)
    mem.consolidate("ann")
    hits = mem.recall(query, namespace="ann", k=3)
    assert hits[0].event.id == target and "via a fact" in hits[0].why()
    assert rank_of_target(plain) == before > 0  # switched off: no fact, no lift
    plain.close()
    mem.close()


def test_complete_finds_the_memory_a_fragment_belongs_to(mem) -> None:
    texts = [
        f"{who} said the {thing} was {how} near the {place}"
        for who, thing, how, place in zip(
            ["Ann", "Bob", "Cid", "Dee", "Eve", "Fay"] * 5,
            ["bike", "tent", "lamp", "boat", "kite", "drum"] * 5,
            ["broken", "lost", "new", "old", "found"] * 6,
            ["lake", "park", "shop", "hill", "barn", "pier", "road", "mill", "wood", "gate"] * 3,
            strict=True,
        )
    ]
    events = mem.remember_many([{"text": t} for t in texts], namespace="frag")
    target = events[7]  # "Bob said the tent was new near the mill"
    hits = mem.complete("Bob tent near mill", namespace="frag", k=3)
    assert hits[0].event.id == target.id
    weights = [h.components["weight"] for h in hits]
    assert weights == sorted(weights, reverse=True) and 0 < sum(weights) <= 1 + 1e-9
    assert mem.complete("anything", namespace="empty") == []
    with pytest.raises(InvalidInput):
        mem.complete("  ", namespace="frag")


def test_repeated_events_merge_into_one_hit(mem) -> None:
    items = [
        {"text": "Remember to water the ferns!", "speaker": "Ann"},
        {"text": "the bus was late again", "speaker": "Bob"},
        {"text": "remember to water the ferns", "speaker": "Ann"},
        {"text": "Remember to water the ferns.", "speaker": "Bob"},  # another speaker: another memory
    ]
    events = mem.remember_many(items, namespace="dup")
    hits = mem.recall("water the ferns", namespace="dup", k=5)
    ids = [h.event.id for h in hits]
    assert events[2].id not in ids or events[0].id not in ids
    merged = next(h for h in hits if h.event.id in (events[0].id, events[2].id))
    assert merged.components["copies"] == 2 and "said 2 times" in merged.why()
    assert events[3].id in ids and len(hits) == 3


def test_recall_episodes_puts_the_latest_word_first(tmp_path) -> None:
    def remember(mem: Memory) -> None:
        for day, city in ((1, "Berlin"), (20, "Lisbon")):
            when = T0 + timedelta(days=day)
            items = [
                {"text": f"My new flat in {city} has a balcony", "session": f"s{day}", "occurred_at": when},
                {"text": "The rent for the flat is fine", "session": f"s{day}", "occurred_at": when},
            ]
            mem.remember_many(items, namespace="u")

    newest = Memory(tmp_path / "a", embedder=HashEmbedder(dim=256), recall=RecallConfig(facts=False))
    remember(newest)
    hits = newest.recall_episodes("my flat and its rent", namespace="u", k=2)
    assert "Lisbon" in hits[0].episode.gist and hits[0].components["recency"] == 1.0
    plain = Memory(tmp_path / "b", embedder=HashEmbedder(dim=256), recall=RecallConfig(facts=False, recency=False))
    remember(plain)
    assert "recency" not in plain.recall_episodes("my flat and its rent", namespace="u", k=2)[0].components
    newest.close()
    plain.close()


def test_an_answer_is_found_by_the_words_of_its_question(tmp_path) -> None:
    turns = [("Bob", "nice weather today"), ("Bob", "did you ever try surfing in Portugal?"), ("Ann", "Yes, twice!")]
    turns += [("Bob", f"unrelated chatter number {i}") for i in range(20)]
    items = [{"text": t, "speaker": who, "session": "s1"} for who, t in turns]
    isolated = {"episodes": False, "contiguity": False, "facts": False, "participants": False}

    def rank_of_answer(in_context: bool) -> tuple[int, dict]:
        config = RecallConfig(**isolated, in_context=in_context)
        with Memory(tmp_path / f"m{in_context}", embedder=HashEmbedder(dim=256), recall=config) as mem:
            answer = mem.remember_many(items, namespace="u")[2]
            hits = mem.recall("surfing in Portugal", namespace="u", k=len(items))
        position = [h.event.id for h in hits].index(answer.id)
        return position, dict(hits[position].components)

    with_context, parts = rank_of_answer(True)
    without, _ = rank_of_answer(False)
    assert "lexical_in_context_rank" in parts and "lexical_rank" not in parts
    assert with_context <= 1 < without  # second only to the question itself
