"""Recall stages driven by the query's cues: time windows, relations, when-anchoring, participants,
episode evidence — each checked against the real engine, and switched off by ``RecallConfig``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from engram import HashEmbedder, Memory
from engram.cognition.cues import (
    asks_when,
    has_time_reference,
    named_participants,
    only_asks,
    without_participants,
)
from engram.cognition.feedback import feedback_query
from engram.cognition.hierarchy import add_episode_evidence, episode_evidence
from engram.cognition.recall import RecallConfig

AT = datetime(2023, 5, 26, 18, 0, tzinfo=timezone.utc)  # a Friday
DAY = timedelta(days=1)


def _memory(config: RecallConfig | None = None) -> Memory:
    return Memory(":memory:", embedder=HashEmbedder(dim=256), recall=config)


def _cooking(mem: Memory) -> None:
    """The same activity on several days, one session per day."""
    for days_back, dish in ((1, "pasta"), (3, "curry"), (10, "soup"), (17, "risotto"), (40, "tacos")):
        when = AT - days_back * DAY
        mem.remember(f"I cooked {dish} for dinner tonight", namespace="n", session=f"{when:%F}", occurred_at=when)


@pytest.mark.parametrize(
    ("query", "dish"),
    [
        ("What did I cook for dinner last Tuesday?", "curry"),  # 23 May
        ("What did I cook for dinner yesterday?", "pasta"),
        ("What did I cook for dinner about ten days ago?", "soup"),
        ("What did I cook for dinner in April?", "tacos"),
    ],
)
def test_a_time_window_in_the_query_picks_the_event_in_it(query: str, dish: str) -> None:
    mem = _memory()
    _cooking(mem)
    assert dish in mem.recall(query, namespace="n", at=AT, k=1)[0].event.text
    unaware = _memory(RecallConfig(time_cues=False))
    _cooking(unaware)
    assert [h.event.text for h in unaware.recall(query, namespace="n", at=AT)][0] == "I cooked pasta for dinner tonight"


def test_an_event_that_refers_to_a_time_counts_for_that_time() -> None:
    """Told on 25 May, "yesterday" is 24 May: a query about 24 May finds it, not 24 May's other talk."""
    mem = _memory()
    told = datetime(2023, 5, 25, 10, tzinfo=timezone.utc)
    mem.remember("Yesterday I went to a craft fair downtown", namespace="n", session="b", occurred_at=told)
    mem.remember("I went to a book fair downtown", namespace="n", session="a", occurred_at=told - 20 * DAY)
    top = mem.recall("Which fair did I go to on May 24?", namespace="n", at=AT, k=1)[0]
    assert "craft" in top.event.text


def test_before_and_after_an_event_filter_by_that_event_time() -> None:
    mem = _memory()
    # ingested out of time order, so that ties in similarity do not decide either way
    for days_back, text in ((10, "I bought a blue kayak"), (20, "We moved to Lisbon"), (30, "I bought a red bike")):
        when = AT - days_back * DAY
        mem.remember(text, namespace="n", session=f"{when:%F}", occurred_at=when)

    def order(query: str) -> list[str]:
        return [h.event.text.split()[-1] for h in mem.recall(query, namespace="n", at=AT)]

    before, after = (
        order("What did I buy before we moved to Lisbon?"),
        order("What did I buy after we moved to Lisbon?"),
    )
    assert before.index("bike") < before.index("kayak")
    assert after.index("kayak") < after.index("bike")


def test_when_questions_lift_the_turn_that_dates_the_event() -> None:
    mem = _memory()
    when = AT - 3 * DAY
    turns = [
        ("maria", "I just adopted this cute pup from a shelter last week"),
        ("john", "That is wonderful news, what is her name?"),
        ("maria", "Her name is Shadow! Shadow is full of energy, Shadow loves the park"),
        ("john", "Shadow sounds like a great dog"),
    ]
    mem.remember_many(
        [{"text": t, "speaker": s, "session": "s1", "occurred_at": when} for s, t in turns], namespace="n"
    )
    hits = mem.recall("When did Maria adopt Shadow?", namespace="n", at=AT, k=2)
    assert any("last week" in h.event.text for h in hits)
    dated = next(h for h in hits if "last week" in h.event.text)
    assert "dated" in dated.components or "dates" in dated.components


def test_a_named_participant_is_preferred() -> None:
    mem = _memory()
    mem.remember_many(
        [
            {"text": "my favourite band is playing in town", "speaker": "Ann", "session": "s"},
            {"text": "my favourite band is playing in town tonight", "speaker": "Bob", "session": "s"},
        ],
        namespace="n",
    )
    assert mem.recall("What is Ann's favourite band?", namespace="n", k=1)[0].event.speaker == "Ann"
    assert mem.recall("What is Bob's favourite band?", namespace="n", k=1)[0].event.speaker == "Bob"
    plain = _memory(RecallConfig(participants=False))
    plain.remember_many(
        [
            {"text": "my favourite band is playing in town", "speaker": "Ann", "session": "s"},
            {"text": "my favourite band is playing in town tonight", "speaker": "Bob", "session": "s"},
        ],
        namespace="n",
    )
    top = plain.recall("What is Ann's favourite band?", namespace="n", k=2)
    assert all("participant" not in h.components for h in top)


def test_the_query_without_its_names_finds_what_the_other_person_said() -> None:
    """A question can name the wrong person (LoCoMo's adversarial ones do): the topic ranking,
    the query searched without the names it holds, still ranks the right event first."""
    mem = _memory()
    mem.remember_many(
        [
            {"text": f"Ann talked about {topic} at length", "speaker": "Ann", "session": "s"}
            for topic in ("her garden", "the weather", "a new phone", "the football match", "her commute")
        ]
        + [{"text": "I adopted a greyhound named Pixel", "speaker": "Bob", "session": "s"}],
        namespace="n",
    )
    hits = mem.recall("When did Ann adopt a greyhound?", namespace="n", k=6)
    pixel = next(h for h in hits if "Pixel" in h.event.text)
    assert pixel.components["dense_topic_rank"] == 1
    unnamed = mem.recall("When was a greyhound adopted?", namespace="n", k=6)
    assert not any("dense_topic_rank" in h.components for h in unnamed)  # no name, no second search
    off = _memory(RecallConfig(topic=False))
    off.remember("I adopted a greyhound named Pixel", namespace="n", speaker="Bob")
    assert "dense_topic_rank" not in off.recall("When did Bob adopt a greyhound?", namespace="n")[0].components


@pytest.mark.parametrize(
    ("query", "named", "topic"),
    [
        ("What activities does Melanie partake in?", ["Melanie"], "What activities does partake in?"),
        ("What are Melanie's pets' names?", ["Melanie"], "What are pets' names?"),
        ("What do Jon’s and Gina's shops sell?", ["Jon", "Gina"], "What do and shops sell?"),
        ("Melanie?", ["Melanie"], ""),
        ("Who is Annabel?", ["Ann"], "Who is Annabel?"),  # whole names only
    ],
)
def test_without_participants_takes_out_names_and_possessives(query: str, named: list[str], topic: str) -> None:
    assert without_participants(query, named) == topic


def test_episode_evidence_adds_to_candidates_and_represents_top_episodes() -> None:
    bonus = episode_evidence([1, 0], [1], 2)
    assert bonus[1] > bonus[0] > 0
    fused = [(10, 0.2, {}), (20, 0.1, {}), (30, 0.05, {})]
    out = add_episode_evidence(fused, bonus, {10: 0, 20: 1, 30: -1, 40: 1}, [(40, 1)], weight=1.0)
    scores = {seq: score for seq, score, _ in out}
    assert scores[20] == pytest.approx(0.1 + bonus[1]) and scores[30] == pytest.approx(0.05)
    assert scores[40] == pytest.approx(bonus[1])  # a representative that was not a candidate
    assert [seq for seq, _, _ in out] == sorted(scores, key=lambda s: -scores[s])


@pytest.mark.parametrize(
    ("text", "dated"),
    [
        ("I went there yesterday", True),
        ("we met last Friday at the cafe", True),
        ("I've known them for 4 years", True),
        ("back in 2019 it was different", True),
        ("since 2016 I paint every day", True),
        ("my birthday is on 8 May", True),
        ("I may go to the march", False),
        ("what a lovely picture", False),
    ],
)
def test_time_references_in_event_text(text: str, dated: bool) -> None:
    assert has_time_reference(text) is dated


def test_when_questions_and_named_participants_are_recognised() -> None:
    assert asks_when("When did Maria adopt Shadow?") and asks_when("How long has Nate had turtles?")
    assert not asks_when("What did Maria adopt?")
    assert named_participants("What did Ann tell Annabel?", ["Ann", "Annabel", "Bob"]) == ["Ann", "Annabel"]
    assert named_participants("what did ann say", ["Ann"]) == []  # names are matched as written


def test_switching_every_stage_off_leaves_plain_fusion() -> None:
    off = RecallConfig(
        episodes=False,
        contiguity=False,
        time_cues=False,
        participants=False,
        in_context=False,
        related_words=False,
        topic=False,
        questions=False,
        strength=False,
    )
    mem = _memory(off)
    _cooking(mem)
    hits = mem.recall("What did I cook last Tuesday?", namespace="n", at=AT)
    for hit in hits:
        assert set(hit.components) <= {"dense", "dense_rank", "lexical", "lexical_rank"}
    assert np.all(np.diff([h.score for h in hits]) <= 0)


def _trips(mem: Memory) -> None:
    """Five sessions: three trips on different days, two about other things."""
    sessions = [
        (60, ["We drove to the coast for a weekend road trip", "the beach was windy but fun"]),
        (45, ["I repainted the kitchen cabinets", "the paint took two days to dry"]),
        (30, ["We took the train to the mountains for a hiking trip", "the trail was steep"]),
        (20, ["I started a pottery class on Mondays", "my first bowl cracked in the kiln"]),
        (5, ["We flew to Rome for a city trip", "the museums were crowded"]),
    ]
    for days_back, texts in sessions:
        when = AT - days_back * DAY
        mem.remember_many(
            [
                {"text": t, "session": f"{when:%F}", "occurred_at": when + i * timedelta(minutes=1)}
                for i, t in enumerate(texts)
            ],
            namespace="n",
        )


def test_recall_episodes_ranks_whole_episodes_and_filters_by_time() -> None:
    mem = _memory()
    _trips(mem)
    top = mem.recall_episodes("pottery class", namespace="n", k=2, at=AT)
    assert "pottery" in top[0].episode.gist and top[0].episode.event_count == 2
    assert top[0].why().startswith("score") and "lexical #1" in top[0].why()
    recent = mem.recall_episodes("trip", namespace="n", since=AT - 10 * DAY, at=AT)
    assert [h.episode.started_at.date() for h in recent] == [(AT - 5 * DAY).date()]
    assert mem.recall_episodes("trip", namespace="empty") == []


def test_a_question_about_several_memories_spreads_over_episodes() -> None:
    mem = _memory()
    _trips(mem)
    trips = mem.recall_episodes("How many trips did I take, in total?", namespace="n", k=3, at=AT)
    assert all("trip" in h.episode.gist for h in trips)
    window = mem.recall_episodes("Which trip did I take last month?", namespace="n", k=1, at=AT)
    assert "mountains" in window[0].episode.gist  # 30 days back: inside "last month" (April)


def test_the_first_time_and_most_recently_prefer_earlier_and_later_hits() -> None:
    mem = _memory()
    for days_back in (40, 20, 5):
        when = AT - days_back * DAY
        mem.remember("I went to the climbing gym with Sam", namespace="n", session=f"{when:%F}", occurred_at=when)
    first = mem.recall("When did I go to the climbing gym with Sam for the first time?", namespace="n", at=AT, k=1)
    last = mem.recall("When did I most recently go to the climbing gym with Sam?", namespace="n", at=AT, k=1)
    assert first[0].event.occurred_at == AT - 40 * DAY and "order" in first[0].components
    assert last[0].event.occurred_at == AT - 5 * DAY


def _model_kits(mem: Memory) -> None:
    """Three sessions name model kits; a fourth describes one without naming it; five are unrelated."""
    texts = [
        "Planned a picnic in the park with sandwiches",
        "Called my sister about her wedding in June",
        "Bought a model kit of a Spitfire, to be built with glue, primer and grey paint",
        "Repaired the garden fence and its rotten posts",
        "Finished the model kit of a Mustang with glue, primer and grey paint",
        "Booked a dentist appointment for Friday morning",
        "Started a Tiger tank diorama with glue, primer and grey paint",
        "Cooked a curry for the neighbours",
        "Ordered a model kit of a Zero, for glue, primer and grey paint",
    ]
    for i, text in enumerate(texts):
        mem.remember(text, namespace="n", session=f"s{i}", occurred_at=AT - (30 - i) * DAY)


def test_feedback_from_the_top_episodes_lifts_one_that_says_it_in_other_words() -> None:
    query = "Which model kits did I work on?"
    ranked: dict[bool, list[str]] = {}
    for feedback in (True, False):
        mem = _memory(RecallConfig(feedback=feedback))
        _model_kits(mem)
        hits = mem.recall_episodes(query, namespace="n", k=9, at=AT)
        ranked[feedback] = [h.episode.gist for h in hits]
        assert all("model kit" in gist for gist in ranked[feedback][:3])
        tank = next(h for h in hits if "Tiger tank" in h.episode.gist)
        assert ("feedback_rank" in tank.components) is feedback
        if feedback:
            assert tank.components["feedback_rank"] == 4  # right after the three kits, before the unrelated
            assert "feedback #4" in tank.why()
    position = {on: next(i for i, gist in enumerate(gists) if "Tiger tank" in gist) for on, gists in ranked.items()}
    assert position[True] < position[False]


def test_feedback_query_moves_the_query_towards_the_top_centroids() -> None:
    rng = np.random.default_rng(0)
    centroids = rng.normal(size=(5, 16)).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    query = centroids[4]
    moved = feedback_query(query, centroids, [0, 1])
    assert moved.dtype == np.float32 and np.isclose(np.linalg.norm(moved), 1.0)
    target = centroids[[0, 1]].mean(axis=0)
    assert moved @ target > query @ target
    assert np.array_equal(feedback_query(query, centroids, []), query)
    assert np.allclose(feedback_query(query, centroids, [0], weight=0.0), query)
    with pytest.raises(ValueError, match="at least 0"):
        feedback_query(query, centroids, [0], weight=-1.0)


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("What's your best camping memory?", True),
        ("Wow, Mel! Any more paintings coming up?", True),
        ("Did you go? Was it fun?", True),
        ("We went camping at the beach. Have you been?", False),  # it tells something too
        ("I love camping.", False),
        ("Really?! That is the best news I have heard all week", False),
    ],
)
def test_only_asks_recognises_turns_that_tell_nothing(text: str, asks: bool) -> None:
    assert only_asks(text) is asks


def test_a_turn_that_only_asks_ranks_below_the_one_that_answers() -> None:
    events = [
        {"text": "What was your favourite camping trip at the beach?", "speaker": "Ann", "session": "s"},
        {"text": "The camping trip at the beach last summer, with the kids", "speaker": "Bob", "session": "t"},
    ]
    mem, plain = _memory(), _memory(RecallConfig(questions=False))
    for m in (mem, plain):
        m.remember_many(events, namespace="n")
    query = "favourite camping trip at the beach"
    assert plain.recall(query, namespace="n", k=1)[0].event.speaker == "Ann"  # the question matches best
    top = mem.recall(query, namespace="n", k=2)
    assert [h.event.speaker for h in top] == ["Bob", "Ann"] and "only asks" in top[1].why()
    asked = mem.recall("What did Ann ask about the camping trip at the beach?", namespace="n", k=2)
    assert all("question" not in h.components for h in asked)  # a query about asking keeps questions
