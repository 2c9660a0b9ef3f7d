"""The Store contract, run against every backend (SQLite and the in-memory twin)."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engram.core.records import Episode, Event, new_id
from engram.errors import ModelMismatch, NotFound, StoreError
from engram.stores.base import EpisodeRow, Filter
from engram.stores.memory import InMemoryStore
from engram.stores.sqlite import SQLiteStore

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def make_event(text: str, *, namespace: str = "ns", session: str | None = None, minutes: int = 0) -> Event:
    when = T0 + timedelta(minutes=minutes)
    return Event(id=new_id(), namespace=namespace, text=text, occurred_at=when, recorded_at=when, session=session)


def unit(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_add_then_read_back_in_order(store) -> None:
    store.bind_model("m", 8)
    events = [make_event(f"event {i}") for i in range(5)]
    seqs = store.add(events, unit(5))
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert store.events(list(reversed(seqs))) == list(reversed(events))
    assert store.get(events[2].id) == events[2]
    assert store.last_seq("ns") == seqs[-1]
    assert store.last_seq("other") == 0


def test_get_unknown_id_raises_not_found(store) -> None:
    with pytest.raises(NotFound):
        store.get("nope")


def test_vectors_round_trip_per_namespace(store) -> None:
    store.bind_model("m", 8)
    vectors = unit(4)
    seqs = store.add([make_event("a"), make_event("b", namespace="x"), make_event("c"), make_event("d")], vectors)
    batch = store.vectors("ns")
    assert list(batch.seqs) == [seqs[0], seqs[2], seqs[3]]
    np.testing.assert_array_equal(batch.vectors, vectors[[0, 2, 3]])
    later = store.vectors("ns", after_seq=seqs[2])
    assert list(later.seqs) == [seqs[3]]


def test_lexical_finds_matching_words_only_in_namespace(store) -> None:
    store.bind_model("m", 8)
    events = [
        make_event("I adopted a puppy named Rex"),
        make_event("The weather in Lisbon is lovely"),
        make_event("Rex chewed my shoes again"),
        make_event("Rex is a name in another namespace", namespace="other"),
    ]
    seqs = store.add(events, unit(4))
    found = store.lexical("ns", ["rex"], 10, Filter())
    assert {s for s, _ in found} == {seqs[0], seqs[2]}
    assert all(score > 0 for _, score in found)
    assert store.lexical("ns", ["zebra"], 10, Filter()) == []


def test_lexical_ranks_rarer_and_repeated_terms_higher(store) -> None:
    store.bind_model("m", 8)
    texts = ["apple banana", "apple apple banana cherry", "banana split", "cherry pie", "plain words here"]
    seqs = store.add([make_event(t) for t in texts], unit(len(texts)))
    ranked = [s for s, _ in store.lexical("ns", ["apple"], 10, Filter())]
    assert ranked == [seqs[1], seqs[0]]


def test_lexical_respects_session_and_time_filters(store) -> None:
    store.bind_model("m", 8)
    events = [make_event("trip to Rome", session="s1", minutes=0), make_event("trip to Oslo", session="s2", minutes=60)]
    seqs = store.add(events, unit(2))
    assert [s for s, _ in store.lexical("ns", ["trip"], 10, Filter(session="s2"))] == [seqs[1]]
    since = Filter(since=T0 + timedelta(minutes=30))
    assert [s for s, _ in store.lexical("ns", ["trip"], 10, since)] == [seqs[1]]
    until = Filter(until=T0 + timedelta(minutes=30))
    assert [s for s, _ in store.lexical("ns", ["trip"], 10, until)] == [seqs[0]]


def test_model_is_recorded_and_a_different_one_refused(store) -> None:
    store.bind_model("model-a", 8)
    store.bind_model("model-a", 8)
    with pytest.raises(ModelMismatch, match="model-a"):
        store.bind_model("model-b", 8)


def test_duplicate_id_rejects_whole_batch(store) -> None:
    store.bind_model("m", 8)
    first = make_event("first")
    store.add([first], unit(1))
    with pytest.raises(StoreError):
        store.add([make_event("second"), first], unit(2))
    assert store.stats()["events"] == 1


def test_stats_counts_namespaces(store) -> None:
    store.bind_model("m", 8)
    store.add([make_event("a"), make_event("b", namespace="x")], unit(2))
    stats = store.stats()
    assert stats["events"] == 2 and stats["namespaces"] == {"ns": 1, "x": 1}
    assert stats["model"] == "m" and stats["dim"] == 8


def test_sqlite_model_mismatch_survives_reopen(tmp_path) -> None:
    first = SQLiteStore(tmp_path)
    first.bind_model("model-a", 8)
    first.close()
    again = SQLiteStore(tmp_path)
    with pytest.raises(ModelMismatch):
        again.bind_model("model-b", 16)
    again.close()


def test_sqlite_migrations_are_recorded_once(tmp_path) -> None:
    SQLiteStore(tmp_path).close()
    store = SQLiteStore(tmp_path)
    rows = store._query("SELECT version, name FROM migrations")
    assert rows == [
        (1, "events, vectors and lexical index"),
        (2, "surprise, ingest-time index, episodes and segmentation state"),
        (3, "semantic memory: entities, facts, consolidation state and LLM usage"),
        (4, "memory strength: explicit importance of events, strength state of recalled memories"),
    ]
    store.close()


def _episode_row(events: list[Event], seqs: list[int], *, closed: bool, gist: str = "g") -> EpisodeRow:
    episode = Episode(
        id=f"ep-{events[0].id}",
        namespace=events[0].namespace,
        started_at=events[0].occurred_at,
        ended_at=events[-1].occurred_at,
        recorded_at=events[0].recorded_at,
        event_count=len(events),
        first_event_id=events[0].id,
        last_event_id=events[-1].id,
        participants=("ann",),
        gist=gist,
        boundary="first",
        closed=closed,
    )
    return EpisodeRow(episode, first_seq=seqs[0], last_seq=seqs[-1], centroid=unit(1)[0])


def test_segmentation_state_saves_only_from_the_state_it_saw(store) -> None:
    store.bind_model("m", 8)
    events = [make_event(f"e{i}", minutes=i) for i in range(4)]
    seqs = store.add(events, unit(4))
    assert store.segmentation_state("ns") == (0, None)
    first = _episode_row(events[:2], seqs[:2], closed=False)
    assert store.save_segmentation(
        "ns", seen_seq=0, new_seq=seqs[1], state=b"one", surprise=[(seqs[0], 0.5), (seqs[1], 0.25)], episodes=[first]
    )
    assert store.segmentation_state("ns") == (seqs[1], b"one")
    assert [e.surprise for e in store.events(seqs)] == [0.5, 0.25, None, None]
    stale = store.save_segmentation("ns", seen_seq=0, new_seq=seqs[3], state=b"two", surprise=[], episodes=[])
    assert not stale and store.segmentation_state("ns") == (seqs[1], b"one")  # a stale writer changes nothing
    grown = _episode_row(events, seqs, closed=True, gist="all four")  # the open episode grew and closed
    assert store.save_segmentation("ns", seen_seq=seqs[1], new_seq=seqs[3], state=b"two", surprise=[], episodes=[grown])
    (row,) = store.episodes("ns")
    assert row.episode == grown.episode and (row.first_seq, row.last_seq) == (seqs[0], seqs[3])
    np.testing.assert_array_equal(row.centroid, grown.centroid)
    assert store.episodes("other") == []


def test_segmentation_saves_may_keep_the_previous_state(store) -> None:
    store.bind_model("m", 8)
    seqs = store.add([make_event(f"e{i}") for i in range(3)], unit(3))
    with pytest.raises(StoreError, match="must carry a state"):
        store.save_segmentation("ns", seen_seq=0, new_seq=seqs[0], state=None, surprise=[], episodes=[])
    assert store.segmentation_state("ns") == (0, None)
    assert store.save_segmentation("ns", seen_seq=0, new_seq=seqs[0], state=b"s1", surprise=[], episodes=[])
    assert store.save_segmentation("ns", seen_seq=seqs[0], new_seq=seqs[2], state=None, surprise=[], episodes=[])
    assert store.segmentation_state("ns") == (seqs[2], b"s1")
    assert store.segmentation_state("ns", unless_seen=seqs[2]) == (seqs[2], None)


def test_episodes_filter_by_overlap_with_a_time_window(store) -> None:
    store.bind_model("m", 8)
    events = [make_event(f"e{i}", minutes=60 * i) for i in range(4)]
    seqs = store.add(events, unit(4))
    rows = [_episode_row(events[:2], seqs[:2], closed=True), _episode_row(events[2:], seqs[2:], closed=False)]
    assert store.save_segmentation("ns", seen_seq=0, new_seq=seqs[3], state=b"s", surprise=[], episodes=rows)
    hour = timedelta(hours=1)
    assert [r.first_seq for r in store.episodes("ns", since=T0 + hour)] == [seqs[0], seqs[2]]  # overlaps: ends at 1h
    assert [r.first_seq for r in store.episodes("ns", since=T0 + 1.5 * hour)] == [seqs[2]]
    assert [r.first_seq for r in store.episodes("ns", until=T0 + 2 * hour)] == [seqs[0]]


def test_recorded_time_filters_lexical_search(store) -> None:
    store.bind_model("m", 8)
    early = Event(id=new_id(), namespace="ns", text="trip one", occurred_at=T0, recorded_at=T0)
    late = Event(id=new_id(), namespace="ns", text="trip two", occurred_at=T0, recorded_at=T0 + timedelta(days=1))
    seqs = store.add([early, late], unit(2))
    after = Filter(recorded_since=T0 + timedelta(hours=1))
    assert [s for s, _ in store.lexical("ns", ["trip"], 10, after)] == [seqs[1]]
    before = Filter(recorded_until=T0 + timedelta(hours=1))
    assert [s for s, _ in store.lexical("ns", ["trip"], 10, before)] == [seqs[0]]
    batch = store.vectors("ns")
    assert list(batch.recorded) == [T0.timestamp(), (T0 + timedelta(days=1)).timestamp()]


timezones = st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
events = st.builds(
    Event,
    id=st.uuids().map(lambda u: u.hex),
    namespace=st.from_regex(r"[a-z0-9_.:@/-]{1,20}", fullmatch=True),
    text=st.text(min_size=1, max_size=200).filter(lambda t: t.strip() and "\x00" not in t),
    occurred_at=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=timezones),
    recorded_at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=timezones),
    speaker=st.none() | st.text(min_size=1, max_size=30),
    session=st.none() | st.text(min_size=1, max_size=30),
    metadata=st.dictionaries(st.text(max_size=10), json_values, max_size=4),
)


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
@settings(max_examples=40, deadline=None)
@given(batch=st.lists(events, min_size=1, max_size=5, unique_by=lambda e: e.id))
def test_events_round_trip_exactly(backend, batch) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = SQLiteStore(directory) if backend == "sqlite" else InMemoryStore()
        store.bind_model("m", 8)
        seqs = store.add(batch, unit(len(batch)))
        back = store.events(seqs)
        assert back == batch
        for original, restored in zip(batch, back, strict=True):
            assert restored.occurred_at.utcoffset() == original.occurred_at.utcoffset()
            assert store.get(original.id) == original
        store.close()


def test_sqlite_upgrades_a_version_1_store_in_place(tmp_path) -> None:
    """A store written before episodes existed opens, migrates, and keeps its events queryable by ingest time."""
    import sqlite3

    from engram.stores.migrations import MIGRATIONS

    tmp_path.mkdir(exist_ok=True)
    db = sqlite3.connect(tmp_path / "engram.db")
    db.executescript(MIGRATIONS[0][2])
    db.execute("CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    db.execute("INSERT INTO migrations VALUES (1, ?, '2024-01-01T00:00:00+00:00')", (MIGRATIONS[0][1],))
    db.execute(
        "INSERT INTO events (id, namespace, text, occurred_at, occurred_ts, recorded_at, metadata)"
        " VALUES ('e1', 'ns', 'kept text', ?, ?, ?, '{}')",
        (T0.isoformat(), T0.timestamp(), (T0 + timedelta(days=2)).isoformat()),
    )
    db.execute("INSERT INTO events_fts (rowid, speaker, text) VALUES (1, '', 'kept text')")
    db.commit()
    db.close()
    store = SQLiteStore(tmp_path)
    assert store.get("e1").text == "kept text" and store.get("e1").surprise is None
    found = store.lexical("ns", ["kept"], 5, Filter(recorded_since=T0 + timedelta(days=1)))
    assert len(found) == 1
    assert store.lexical("ns", ["kept"], 5, Filter(recorded_until=T0 + timedelta(days=1))) == []
    store.close()
