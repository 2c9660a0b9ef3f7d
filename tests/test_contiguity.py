"""Temporal contiguity: neighbours of a hit are recalled with it, forward before backward."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from engram import HashEmbedder, Memory, RecallConfig
from engram.cognition.contiguity import add_neighbours


def test_forward_neighbour_outranks_backward_and_sessions_are_walls() -> None:
    seqs = np.array([1, 2, 3, 4, 5])
    sessions = ["a", "a", "a", "b", "b"]
    fused = [(2, 1.0, {"dense": 0.9}), (5, 0.1, {})]
    ranked = add_neighbours(fused, seqs, sessions, forward=0.5, backward=0.3)
    order = [seq for seq, _, _ in ranked]
    assert order[:3] == [2, 3, 1]  # the hit, then the event after it, then the one before
    assert dict((s, p) for s, _, p in ranked)[3]["contiguity"] == 1.0
    crossing = add_neighbours([(3, 1.0, {})], seqs, sessions)
    assert {seq for seq, _, _ in crossing} == {3, 2}  # seq 4 starts session b: not a neighbour


def test_neighbour_keeps_its_own_score_when_higher() -> None:
    fused = [(1, 1.0, {}), (2, 0.9, {"lexical": 3.0})]
    ranked = add_neighbours(fused, np.array([1, 2]), ["s", "s"], forward=0.5, backward=0.3)
    assert ranked[1] == (2, 0.9, {"lexical": 3.0})


def test_recall_brings_back_the_answer_after_the_question() -> None:
    # in-context BM25 would find the answer by itself (tests/test_association.py) and the question's
    # demotion would put it first (tests/test_recall_cues.py); here contiguity must bring it
    mem = Memory(":memory:", embedder=HashEmbedder(dim=256), recall=RecallConfig(in_context=False, questions=False))
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    turns = [
        ("bob", "Did you ever get a pet?"),
        ("alice", "Yes! A grey kitten from the shelter."),
        ("bob", "The weather has been awful this week."),
        ("alice", "Rain every single day."),
    ]
    mem.remember_many(
        [
            {"text": t, "speaker": s, "session": "s1", "occurred_at": t0 + timedelta(minutes=i)}
            for i, (s, t) in enumerate(turns)
        ]
    )
    hits = mem.recall("get a pet", k=2)
    assert [h.event.text for h in hits] == [turns[0][1], turns[1][1]]
    assert hits[1].components.get("contiguity") == 1.0
