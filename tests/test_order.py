"""``Memory.order``: which of two remembered things came first, on shuffled cues."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from engram import HashEmbedder, Memory
from engram.cognition.order import word_offset
from engram.errors import NotFound

SENTENCES = [
    "The lighthouse keeper rowed out at dawn to mend the broken lantern.",
    "A storm from the north flattened the barley fields behind the church.",
    "Marta found a brass key buried under the old pear tree.",
    "The village band practised marches every Thursday evening in the barn.",
    "Nobody could explain why the mill wheel turned backwards that winter.",
    "The schoolteacher taught the children to read the tides from the pier.",
]


@pytest.fixture
def stream() -> Memory:
    mem = Memory(":memory:", embedder=HashEmbedder(dim=256))
    mem.remember_many([{"text": s} for s in SENTENCES], namespace="book")  # no timestamps: ingest order
    return mem


def test_order_of_shuffled_cues_follows_the_stream(stream: Memory) -> None:
    rng = random.Random(7)
    pairs = [(i, j) for i in range(len(SENTENCES)) for j in range(len(SENTENCES)) if i != j]
    for i, j in rng.sample(pairs, 20):
        cue_a = " ".join(SENTENCES[i].split()[2:9])  # fragments, not whole events
        cue_b = " ".join(SENTENCES[j].split()[1:8])
        answer = stream.order(cue_a, cue_b, namespace="book")
        assert answer.first == ("a" if i < j else "b"), answer.evidence
        assert answer.a.exact and answer.b.exact


def test_order_within_one_event_and_across_a_boundary(stream: Memory) -> None:
    text = SENTENCES[2]
    assert stream.order("under the old pear tree", "Marta found a brass key", namespace="book").first == "b"
    straddling = SENTENCES[1].split()[-4:] + SENTENCES[2].split()[:3]
    answer = stream.order(" ".join(straddling), text, namespace="book")
    assert answer.first == "a" and answer.a.rank == 1


def test_order_by_event_ids_and_by_time(tmp_path) -> None:
    mem = Memory(tmp_path, embedder=HashEmbedder(dim=256))
    t0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
    late = mem.remember("We moved to the coast.", occurred_at=t0 + timedelta(days=30))
    early = mem.remember("We sold the old flat.", occurred_at=t0)  # told later, happened earlier
    answer = mem.order(late.id, early.id)
    assert answer.first == "b" and answer.b.event == early
    assert "b came first" in answer.evidence


def test_a_cue_that_is_a_question_is_located_verbatim() -> None:
    """Recall counts an event that only asks half; order still locates a question cue verbatim."""
    mem = Memory(":memory:", embedder=HashEmbedder(dim=256))
    mem.remember_many(
        [
            {"text": "Did you ever get a pet from the shelter?", "speaker": "Bob"},
            {"text": "Yes, we got a pet from the shelter, a grey kitten.", "speaker": "Ann"},
        ]
    )
    answer = mem.order("Did you ever get a pet from the shelter?", "a grey kitten")
    assert answer.first == "a" and answer.a.exact and answer.a.event.speaker == "Bob"


def test_order_needs_something_to_match() -> None:
    mem = Memory(":memory:", embedder=HashEmbedder())
    with pytest.raises(NotFound):
        mem.order("anything", "else", namespace="empty")


def test_word_offset_finds_heads_tails_and_straddles() -> None:
    assert word_offset("brass key buried under the old", SENTENCES[2]) == (0, 3)
    assert word_offset("the barley fields behind the church Marta found a", SENTENCES[2], SENTENCES[1]) is None
    straddle = "behind the church Marta found a brass key buried"
    assert word_offset(straddle, SENTENCES[2], SENTENCES[1]) == (-1, 9)


def test_sort_trials_follow_the_protocol() -> None:
    from engram.eval import sort

    text = " ".join(f"Sentence number {i} tells part {i} of the story here." for i in range(400))
    sents = sort.sentences(text)
    assert len(sents) == 400
    rng = random.Random(1)
    part = sort.excerpt(sents, 1000, rng)
    assert sum(len(s.split()) for s in part) >= 1000
    trials = sort.trials(part, 1000, 20, rng, 5)
    edges = sort.bin_edges(1000, 20)
    words = " ".join(part)
    for trial in trials:
        gap = len(words[: words.index(trial["second"])].split()) - len(words[: words.index(trial["first"])].split())
        assert edges[trial["bin"] - 1] <= gap < edges[trial["bin"]]
    assert {t["bin"] for t in trials} == {1, 2, 3, 4}
