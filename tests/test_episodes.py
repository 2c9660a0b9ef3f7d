"""Episodes: segmentation wired into ``remember``, stored, resumable, listed by ``timeline``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engram import HashEmbedder, Memory
from engram.cognition.episodes import MAX_EPISODE_EVENTS
from engram.core.records import Event, new_id
from engram.errors import InvalidInput, NotFound

T0 = datetime(2023, 5, 1, 9, 0, tzinfo=timezone.utc)
TOPICS = [
    ["pasta", "tomato", "basil", "garlic", "olive", "oil", "sauce", "cook", "kitchen", "recipe"],
    ["guitar", "chord", "song", "band", "drum", "concert", "melody", "stage", "music", "bass"],
    ["hike", "mountain", "trail", "summit", "forest", "river", "boots", "camp", "tent", "map"],
]


def _topic_stream(per_topic: int = 12, seed: int = 0) -> list[str]:
    """Sentences drawn from one small vocabulary per topic, topics in a row."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(words, size=6)) for words in TOPICS for _ in range(per_topic)]


def _items(texts: list[str], **extra: object) -> list[dict[str, object]]:
    return [{"text": t, **extra} for t in texts]


def _partition_ok(mem: Memory, namespace: str, n_events: int) -> None:
    """Episodes are contiguous, non-overlapping and together hold every event exactly once."""
    episodes = mem.timeline(namespace)
    assert sum(e.event_count for e in episodes) == n_events
    assert [e.closed for e in episodes] == [True] * (len(episodes) - 1) + [False]


@pytest.fixture
def sqlite_mem(tmp_path: Path):
    memory = Memory(tmp_path / "mem", embedder=HashEmbedder(dim=256))
    yield memory
    memory.close()


def test_sessions_become_episodes_in_time_order(mem: Memory) -> None:
    lines = (("ann", "hello there"), ("bob", "we talked about the garden"), ("ann", "bye for now"))
    for number, day in ((1, 0), (2, 7), (3, 30)):
        items = [
            {"text": text, "speaker": who, "session": f"s{number}", "occurred_at": T0 + timedelta(days=day, minutes=i)}
            for i, (who, text) in enumerate(lines)
        ]
        mem.remember_many(items, namespace="n")
    episodes = mem.timeline("n")
    assert [e.boundary for e in episodes] == ["first", "session", "session"]
    assert [e.started_at for e in episodes] == [T0, T0 + timedelta(days=7), T0 + timedelta(days=30)]
    assert [e.ended_at for e in episodes] == [T0 + timedelta(days=d, minutes=2) for d in (0, 7, 30)]
    assert all(e.event_count == 3 and e.participants == ("ann", "bob") for e in episodes)
    assert [e.closed for e in episodes] == [True, True, False]
    assert all(e.gist and e.gist.split()[0] in {"ann:", "bob:"} for e in episodes)  # quotes its own events


def test_old_conversations_land_in_the_past_and_both_times_are_queryable(mem: Memory) -> None:
    old = datetime(2021, 3, 4, tzinfo=timezone.utc)
    before = datetime.now(timezone.utc)
    mem.remember("We adopted a cat named Miso.", namespace="n", session="a", occurred_at=old)
    mem.remember("Miso knocked over a plant today.", namespace="n", session="b")
    episodes = mem.timeline("n")
    assert episodes[0].started_at == old and episodes[0].recorded_at >= before
    assert [e.gist for e in mem.timeline("n", until=datetime(2022, 1, 1, tzinfo=timezone.utc))] == [episodes[0].gist]
    in_2021 = mem.recall("Miso", namespace="n", until=datetime(2022, 1, 1, tzinfo=timezone.utc))
    assert [h.event.occurred_at for h in in_2021] == [old]
    recorded_now = mem.recall("Miso", namespace="n", recorded_since=before)
    assert len(recorded_now) == 2  # both were recorded now, whatever their event time


def test_remember_returns_events_with_their_stored_surprise(mem: Memory) -> None:
    events = mem.remember_many(_items(_topic_stream(4)), namespace="n")
    assert all(e.surprise is not None and 0.0 <= e.surprise <= 1.0 for e in events)
    assert [mem.get(e.id).surprise for e in events] == [e.surprise for e in events]


def test_topic_switches_cut_a_stream_without_sessions_or_times(mem: Memory) -> None:
    texts = _topic_stream(per_topic=15)
    mem.remember_many(_items(texts, occurred_at=T0), namespace="n")
    mem.remember_many(_items(["filler words"] * 20, occurred_at=T0), namespace="n")  # look-ahead past the end
    starts = [e.boundary for e in mem.timeline("n")]
    assert starts[0] == "first" and "surprise" in starts
    _partition_ok(mem, "n", len(texts) + 20)


def test_chunked_ingest_with_reopen_equals_one_shot(tmp_path: Path) -> None:
    texts = _topic_stream(per_topic=14, seed=3)
    embedder = HashEmbedder(dim=256)
    one = Memory(tmp_path / "one", embedder=embedder)
    one.remember_many(_items(texts, occurred_at=T0), namespace="n")
    expected = [(e.first_event_id is not None, e.event_count, e.boundary) for e in one.timeline("n")]
    expected_surprise = [e.surprise for e in one.store.events(list(range(1, len(texts) + 1)))]
    one.close()
    for cut in (1, 7, 20):
        path = tmp_path / f"chunks-{cut}"
        first = Memory(path, embedder=embedder)
        first.remember_many(_items(texts[:cut], occurred_at=T0), namespace="n")
        first.close()
        second = Memory(path, embedder=embedder)  # a new process: state comes from the store
        for text in texts[cut:]:
            second.remember(text, namespace="n", occurred_at=T0)
        got = [(e.first_event_id is not None, e.event_count, e.boundary) for e in second.timeline("n")]
        surprise = [e.surprise for e in second.store.events(list(range(1, len(texts) + 1)))]
        second.close()
        assert got == expected, cut
        assert surprise == pytest.approx(expected_surprise, abs=1e-9), cut


def test_events_written_behind_segmentation_are_caught_up(sqlite_mem: Memory) -> None:
    """A crash between storing events and segmenting them loses no episode: the next call catches up."""
    sqlite_mem.remember("the first thing", namespace="n", session="a", occurred_at=T0)
    later = T0 + timedelta(hours=1)
    events = [
        Event(id=new_id(), namespace="n", text=f"later thing {i}", occurred_at=later, recorded_at=later, session="b")
        for i in range(3)
    ]
    sqlite_mem.store.add(events, sqlite_mem.embedder.embed([e.text for e in events]))  # as if we crashed here
    episodes = sqlite_mem.timeline("n")
    assert [e.event_count for e in episodes] == [1, 3] and episodes[1].boundary == "session"
    assert sqlite_mem.get(events[0].id).surprise is not None


def test_two_writers_share_one_segmentation(tmp_path: Path) -> None:
    a = Memory(tmp_path / "mem", embedder=HashEmbedder(dim=256))
    b = Memory(tmp_path / "mem", embedder=HashEmbedder(dim=256))
    texts = _topic_stream(per_topic=8, seed=5)
    for i, text in enumerate(texts):
        (a if i % 3 else b).remember(text, namespace="n", occurred_at=T0)
    _partition_ok(a, "n", len(texts))
    assert [e.id for e in a.timeline("n")] == [e.id for e in b.timeline("n")]
    a.close()
    b.close()


def test_long_episode_is_cut_at_the_length_limit(mem: Memory) -> None:
    n = MAX_EPISODE_EVENTS * 2 + 10
    mem.remember_many(_items(["the very same words again"] * n, occurred_at=T0), namespace="n")
    episodes = mem.timeline("n")
    assert max(e.event_count for e in episodes) <= MAX_EPISODE_EVENTS
    assert "length" in [e.boundary for e in episodes]
    _partition_ok(mem, "n", n)


def test_namespaces_are_segmented_apart(mem: Memory) -> None:
    mem.remember("alpha one", namespace="a", session="x")
    mem.remember("beta one", namespace="b", session="y")
    mem.remember("alpha two", namespace="a", session="x")
    assert [e.event_count for e in mem.timeline("a")] == [2]
    assert [e.event_count for e in mem.timeline("b")] == [1]
    assert mem.timeline("empty") == []


def test_timeline_rejects_bad_bounds(mem: Memory) -> None:
    with pytest.raises(InvalidInput, match="since"):
        mem.timeline("n", since=datetime(2023, 1, 1))  # naive
    with pytest.raises(InvalidInput, match="namespace"):
        mem.timeline("no spaces allowed")


def test_episode_events_lists_an_episodes_events_in_order(mem: Memory) -> None:
    for session, texts in (("a", ["one", "two"]), ("b", ["three", "four", "five"])):
        mem.remember_many([{"text": t, "session": session, "occurred_at": T0} for t in texts], namespace="n")
    first, second = mem.timeline("n")
    assert [e.text for e in mem.episode_events(second)] == ["three", "four", "five"]
    assert [e.text for e in mem.episode_events(first.id, namespace="n")] == ["one", "two"]
    with pytest.raises(NotFound):
        mem.episode_events("ep-nope", namespace="n")


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=6))
def test_any_chunking_gives_the_episodes_of_one_shot_ingest(cuts: list[int]) -> None:
    """Shortcut = slow path: feeding a stream in arbitrary chunks gives the same episodes and surprise."""
    texts = _topic_stream(per_topic=14, seed=11)
    items = _items(texts, occurred_at=T0)
    embedder = HashEmbedder(dim=128)
    whole = Memory(":memory:", embedder=embedder)
    whole.remember_many(items, namespace="n")
    pieces = Memory(":memory:", embedder=embedder)
    start = 0
    for size in [*cuts, len(items)]:
        if start < len(items):
            pieces.remember_many(items[start : start + size], namespace="n")
        start += size

    def shape(mem: Memory) -> list[tuple[int, str, bool]]:
        return [(e.event_count, e.boundary, e.closed) for e in mem.timeline("n")]

    assert shape(pieces) == shape(whole)
    surprise = [e.surprise for e in pieces.store.events(list(range(1, len(items) + 1)))]
    assert surprise == pytest.approx([e.surprise for e in whole.store.events(list(range(1, len(items) + 1)))])


def test_ingest_time_alone_is_not_clock_evidence() -> None:
    """A batch stored without event times shares one instant; segmentation must treat it as untimed."""
    texts = _topic_stream(per_topic=15, seed=2) + ["filler words"] * 20
    untimed = Memory(":memory:", embedder=HashEmbedder(dim=256))
    untimed.remember_many(_items(texts), namespace="n")
    cut_untimed = [e.boundary for e in untimed.timeline("n")].count("surprise")
    timed = Memory(":memory:", embedder=HashEmbedder(dim=256))
    timed.remember_many(_items(texts, occurred_at=T0), namespace="n")  # a clock that says "no pause"
    cut_timed = [e.boundary for e in timed.timeline("n")].count("surprise")
    assert cut_untimed >= 1 and cut_untimed >= cut_timed


def test_resuming_from_an_older_saved_state_replays_to_the_same_episodes(tmp_path: Path) -> None:
    """The segmenter state is saved every STATE_EVERY events; a new process replays the rest."""
    from engram.cognition.episodes import STATE_EVERY

    texts = _topic_stream(per_topic=14, seed=7)
    assert len(texts) > 20 + 10 and 10 < STATE_EVERY
    embedder = HashEmbedder(dim=256)
    one = Memory(tmp_path / "one", embedder=embedder)
    one.remember_many(_items(texts, occurred_at=T0), namespace="n")
    expected = [(e.event_count, e.boundary, e.closed) for e in one.timeline("n")]
    expected_surprise = [e.surprise for e in one.store.events(list(range(1, len(texts) + 1)))]
    one.close()
    first = Memory(tmp_path / "two", embedder=embedder)
    first.remember_many(_items(texts[:20], occurred_at=T0), namespace="n")  # state saved at event 20
    for text in texts[20:30]:
        first.remember(text, namespace="n", occurred_at=T0)  # segmented, state not saved again
    seen, state = first.store.segmentation_state("n")
    assert state is not None and seen == first.store.last_seq("n")
    first.close()
    second = Memory(tmp_path / "two", embedder=embedder)
    for text in texts[30:]:
        second.remember(text, namespace="n", occurred_at=T0)
    assert [(e.event_count, e.boundary, e.closed) for e in second.timeline("n")] == expected
    surprise = [e.surprise for e in second.store.events(list(range(1, len(texts) + 1)))]
    assert surprise == pytest.approx(expected_surprise, abs=1e-9)
    second.close()


@settings(max_examples=6, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=30), min_size=2, max_size=5))
def test_any_chunking_across_reopened_stores_gives_the_one_shot_episodes(cuts: list[int]) -> None:
    """Each chunk in a new process-like Memory over one SQLite file: saved state, replay, catch-up."""
    import tempfile

    texts = _topic_stream(per_topic=12, seed=13)
    items = _items(texts, occurred_at=T0)
    embedder = HashEmbedder(dim=128)
    whole = Memory(":memory:", embedder=embedder)
    whole.remember_many(items, namespace="n")
    expected = [(e.event_count, e.boundary, e.closed) for e in whole.timeline("n")]
    expected_surprise = [e.surprise for e in whole.store.events(list(range(1, len(items) + 1)))]
    with tempfile.TemporaryDirectory() as directory:
        start = 0
        for size in [*cuts, len(items)]:
            if start < len(items):
                with Memory(directory, embedder=embedder) as memory:
                    for item in items[start : start + size]:
                        memory.remember(item["text"], namespace="n", occurred_at=T0)
            start += size
        with Memory(directory, embedder=embedder) as memory:
            assert [(e.event_count, e.boundary, e.closed) for e in memory.timeline("n")] == expected
            surprise = [e.surprise for e in memory.store.events(list(range(1, len(items) + 1)))]
            assert surprise == pytest.approx(expected_surprise, abs=1e-9)
