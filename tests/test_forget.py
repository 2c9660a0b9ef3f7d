"""Erasure (``Memory.forget``, ``Store.erase``, ``engram forget``): gone from every table and file.

Residue is checked the hard way: every byte of every file under the store directory is
scanned for marker words that occur nowhere else, for their Porter stems (what FTS5 indexes)
and for the stems' tails (FTS5 stores a term after the prefix it shares with the one before).
Facts come from the honest twin of the rule extractor (``twins.TwinExtractor``).
"""

from __future__ import annotations

import dataclasses
import io
import json
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twins import TwinExtractor

from engram import ForgetReport, HashEmbedder, Memory
from engram.core.records import Entity, Episode, Event, Fact, new_id
from engram.errors import InvalidInput, NotFound
from engram.interfaces.cli import main
from engram.perception.segmentation import SegmentationConfig
from engram.stores.base import EpisodeRow, FactRow, Filter, StrengthRow
from engram.stores.erasure import events_by_seq

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
DIM = 64
# Marker words: each appears in one namespace only; (word, its Porter stem). No other token
# shares their first letters, so a stem's tail is unambiguous in a byte scan.
SECRET = [("zqvorblaxing", "zqvorblax"), ("kwyjibofls", "kwyjibofl"), ("xenthrapqed", "xenthrapq")]
KEPT = [("jubmoltrening", "jubmoltren"), ("vyrquandels", "vyrquandel")]


def needles(markers: list[tuple[str, str]]) -> list[str]:
    """What a byte scan looks for: each word, its stem, and the stem without its first two letters."""
    return [n for word, stem in markers for n in (word, stem, stem[2:])]


def scan(directory: Path, words: list[str]) -> dict[str, int]:
    """Occurrences of each word (case-folded) in the bytes of every file under ``directory``."""
    blobs = [path.read_bytes().lower() for path in directory.rglob("*") if path.is_file()]
    return {word: sum(blob.count(word.encode()) for blob in blobs) for word in words}


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table (FTS5 shadow tables included), through a connection of its own."""
    db = sqlite3.connect(str(path / "engram.db"))
    try:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: sorted(db.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        db.close()


def opened(path: Path | str, **options: object) -> Memory:
    return Memory(path, embedder=HashEmbedder(dim=DIM), extractor=TwinExtractor(), **options)  # type: ignore[arg-type]


def chat(mem: Memory, texts: list[str], *, namespace: str = "ann", session: str = "s1", day: int = 0) -> list[Event]:
    items = [
        {"text": t, "speaker": "Ann", "session": session, "occurred_at": T0 + timedelta(days=day, minutes=i)}
        for i, t in enumerate(texts)
    ]
    return mem.remember_many(items, namespace=namespace)


@pytest.fixture(params=["sqlite", "memory"])
def memory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Memory]:
    mem = opened(tmp_path / "mem" if request.param == "sqlite" else ":memory:")
    yield mem
    mem.close()


# -- residue ----------------------------------------------------------------------------------


def _two_namespaces(mem: Memory) -> list[Event]:
    """A secret namespace (markers in text, speaker, a reflection and facts) beside a kept one."""
    word = [w for w, _ in SECRET]
    secret = chat(
        mem,
        [f"I live in {word[0].title()} now", f"we talked about {word[1]} all day", "I like tea"],
        namespace="nsqwertzu",
    )
    secret += mem.remember_many(
        [{"text": "the last note", "speaker": word[2].title(), "session": "s1", "occurred_at": T0}],
        namespace="nsqwertzu",
    )
    mem.reflect(f"Ann keeps {word[1]} in mind", sources=[secret[1].id], namespace="nsqwertzu")
    kept = [w for w, _ in KEPT]
    chat(mem, [f"I live in {kept[0].title()}", f"my {kept[1]} collection grows", "I like jazz"], namespace="kept")
    mem.consolidate()
    return secret


def test_erasing_a_namespace_leaves_no_byte_of_it_in_any_file(tmp_path: Path) -> None:
    mem = opened(tmp_path / "mem")
    _two_namespaces(mem)
    assert mem.recall("zqvorblaxing", namespace="nsqwertzu") and mem.facts("nsqwertzu")
    assert all(scan(tmp_path / "mem", [*needles(SECRET), "nsqwertzu"]).values())  # the scan sees them first
    report = mem.forget(namespace="nsqwertzu")
    assert report.whole_namespace and report.events == 5 and report.scrubbed
    assert (report.facts_deleted, report.episodes_after) == (2, 0) and report.entities >= 2
    assert scan(tmp_path / "mem", [*needles(SECRET), "nsqwertzu"]) == dict.fromkeys([*needles(SECRET), "nsqwertzu"], 0)
    assert all(scan(tmp_path / "mem", needles(KEPT)).values())
    assert mem.recall("nothing at all", namespace="nsqwertzu") == [] and mem.timeline("nsqwertzu") == []
    assert mem.facts("nsqwertzu", include_superseded=True) == [] and mem.entities("nsqwertzu") == []
    assert mem.recall(KEPT[1][0], namespace="kept", k=1)[0].event.text == f"my {KEPT[1][0]} collection grows"
    assert "nsqwertzu" not in mem.stats()["namespaces"]
    mem.close()
    assert scan(tmp_path / "mem", needles(SECRET)) == dict.fromkeys(needles(SECRET), 0)  # closing writes none back


def test_erasing_one_event_leaves_no_byte_of_it(tmp_path: Path) -> None:
    mem = opened(tmp_path / "mem")
    secret = _two_namespaces(mem)
    mine = needles(SECRET[:1])
    report = mem.forget(secret[0].id)  # "I live in Zqvorblaxing now": a fact and an entity of its own
    assert (report.events, report.facts_deleted, report.entities) == (1, 1, 1)
    assert scan(tmp_path / "mem", mine) == dict.fromkeys(mine, 0)
    assert all(scan(tmp_path / "mem", needles(SECRET[1:])).values())  # the rest of the namespace stays
    mem.close()


def test_a_store_written_without_secure_deletion_is_vacuumed_by_its_first_erasure(tmp_path: Path) -> None:
    mem = opened(tmp_path / "mem")
    secret = _two_namespaces(mem)
    mem.close()
    raw = sqlite3.connect(str(tmp_path / "mem" / "engram.db"), isolation_level=None)
    raw.execute("PRAGMA secure_delete = OFF")  # as an older version on an SQLite built without it
    raw.execute("CREATE TABLE scratch AS SELECT text FROM events")
    raw.execute("DROP TABLE scratch")  # its pages keep the texts in the free list
    raw.execute("DELETE FROM meta WHERE key = 'secure_delete_since'")
    raw.close()
    again = opened(tmp_path / "mem")
    again.forget(secret[0].id)
    mine = needles(SECRET[:1])
    assert scan(tmp_path / "mem", mine) == dict.fromkeys(mine, 0)
    again.close()


@pytest.mark.slow
def test_erasure_drops_the_saved_hnsw_graph_and_the_next_one_lacks_the_erased_vectors(tmp_path: Path) -> None:
    """Above ``ANN_THRESHOLD`` (20,000) dense search uses an HNSW graph saved beside the store.

    ``Memory`` offers no way to lower the threshold, so this test stores enough events."""
    from engram.config import ANN_THRESHOLD

    mem = Memory(tmp_path / "mem", embedder=HashEmbedder(dim=32))
    n = ANN_THRESHOLD + 40
    items = [{"text": f"note {i} about thing{i % 97} and word{i % 13}", "occurred_at": T0} for i in range(n)]
    items[123] = {"text": f"the {SECRET[0][0]} code is 4711", "occurred_at": T0}
    events = mem.remember_many(items, namespace="big")
    mem.recall("thing5", namespace="big")
    graph = mem._ann_path("big")
    assert graph is not None and graph.exists()
    erased = mem.embedder.embed([events[123].text])[0].astype(np.float16).tobytes()
    assert graph.read_bytes().count(erased) == 1  # the graph keeps each vector as f16
    other = Memory(tmp_path / "mem", embedder=HashEmbedder(dim=32))  # loads the graph, then grows it unsaved
    other.remember("one more note", namespace="big", occurred_at=T0)
    other.recall("thing5", namespace="big")
    mem.forget(events[123].id)
    assert not graph.exists() and not graph.with_suffix(".json").exists()
    other.close()  # its grown graph holds the erased vector: not written back
    assert not graph.exists()
    assert events[123].id not in [h.event.id for h in mem.recall(SECRET[0][0], namespace="big")]
    assert graph.exists() and json.loads(graph.with_suffix(".json").read_text())["rows"] == n  # rebuilt
    assert graph.read_bytes().count(erased) == 0
    assert scan(tmp_path / "mem", needles(SECRET[:1])) == dict.fromkeys(needles(SECRET[:1]), 0)
    mem.close()


# -- one event and what it takes with it -------------------------------------------------------


def test_erasing_an_event_takes_its_facts_and_episode_text(memory: Memory) -> None:
    first = chat(memory, ["Hi!", "I live in Berlin", "I love tea", "my dog Pico is funny"], session="a")
    second = chat(memory, ["I love tea again", "I work at Acme", "see you"], session="b", day=2)
    memory.consolidate("ann")
    pico = first[3]
    report = memory.forget(pico.id)
    assert report.event_ids == (pico.id,) and report.facts_deleted == 1 and report.entities == 1
    with pytest.raises(NotFound):
        memory.get(pico.id)
    assert pico.id not in [h.event.id for h in memory.recall("my dog Pico is funny", namespace="ann")]
    episodes = memory.timeline("ann")
    assert sum(e.event_count for e in episodes) == 6 and all("Pico" not in e.gist for e in episodes)
    assert "Pico" not in [e.name for e in memory.entities("ann")]
    tea = [f for f in memory.facts("ann") if f.object == "tea"]
    memory.forget(first[2].id)  # one of tea's two sources
    [kept] = [f for f in memory.facts("ann") if f.object == "tea"]
    assert tea[0].sources == (first[2].id, second[0].id) and kept.sources == (second[0].id,)
    assert {f.object for f in memory.facts("ann")} == {"Berlin", "tea", "Acme"}


def test_reflections_go_when_all_their_sources_go_and_lose_the_erased_ones_otherwise(memory: Memory) -> None:
    a, b = chat(memory, ["the first thing", "the second thing"])
    only_a = memory.reflect("drawn from the first", sources=[a.id], namespace="ann")
    both = memory.reflect("drawn from both", sources=[a.id, b.id], namespace="ann")
    on_reflection = memory.reflect("drawn from a reflection", sources=[only_a.id], namespace="ann")
    report = memory.forget(a.id)
    assert set(report.event_ids) == {a.id, only_a.id, on_reflection.id} and report.cascaded == 2
    assert report.relinked == 1 and memory.get(both.id).metadata["sources"] == [b.id]
    for gone in (only_a, on_reflection):
        with pytest.raises(NotFound):
            memory.get(gone.id)


def test_a_fact_superseded_by_an_erased_one_is_current_again(memory: Memory) -> None:
    berlin, lisbon = chat(memory, ["I live in Berlin", "I moved to Lisbon"])
    memory.consolidate("ann")
    assert [f.object for f in memory.facts("ann") if f.predicate == "lives_in"] == ["Lisbon"]
    report = memory.forget(lisbon.id)
    assert (report.facts_deleted, report.facts_updated) == (2, 1)  # moved to / lives in Lisbon; Berlin relinked
    [home] = memory.facts("ann", include_superseded=True)
    assert (home.object, home.valid_to, home.superseded_by, home.sources) == ("Berlin", None, None, (berlin.id,))


def test_a_fact_superseded_by_an_erased_one_takes_its_successor(memory: Memory) -> None:
    _, lisbon, _ = chat(memory, ["I live in Berlin", "I moved to Lisbon", "I moved to Paris"])
    memory.consolidate("ann")
    memory.forget(lisbon.id)
    homes = {f.object: f for f in memory.facts("ann", include_superseded=True) if f.predicate == "lives_in"}
    assert set(homes) == {"Berlin", "Paris"} and homes["Paris"].current
    assert homes["Berlin"].superseded_by == homes["Paris"].id
    assert homes["Berlin"].valid_to == homes["Paris"].valid_from


def test_a_dry_run_reports_what_the_erasure_does_and_changes_nothing(tmp_path: Path) -> None:
    mem = opened(tmp_path / "mem")
    events = chat(mem, ["I live in Berlin", "I moved to Lisbon", "I love tea", "I love tea too"] * 3)
    mem.reflect("Ann moves a lot", sources=[events[1].id], namespace="ann")
    mem.consolidate("ann")
    before = dump(tmp_path / "mem")
    preview = mem.forget(events[1].id, dry_run=True)
    assert dump(tmp_path / "mem") == before
    by_query = mem.forget(query="Lisbon tea", namespace="ann", k=3, dry_run=True)
    assert by_query.events == 3 + by_query.cascaded
    assert mem.forget(namespace="ann", dry_run=True).whole_namespace
    assert dump(tmp_path / "mem") == before
    done = mem.forget(events[1].id)
    assert dataclasses.replace(done, dry_run=True, scrubbed=False) == preview
    assert preview.cascaded == 1 and preview.facts_deleted == 0 and preview.facts_updated >= 1
    mem.close()


def test_bad_targets_raise_and_change_nothing(tmp_path: Path) -> None:
    mem = opened(tmp_path / "mem")
    [event] = chat(mem, ["I live in Berlin"])
    chat(mem, ["elsewhere"], namespace="other")
    before = dump(tmp_path / "mem")
    for call, error in (
        (lambda: mem.forget(), InvalidInput),
        (lambda: mem.forget(event.id, query="Berlin"), InvalidInput),
        (lambda: mem.forget(event.id, namespace="other"), InvalidInput),
        (lambda: mem.forget(query="Berlin", namespace="bad namespace"), InvalidInput),
        (lambda: mem.forget(query="Berlin", k=0), InvalidInput),
        (lambda: mem.forget(query=" "), InvalidInput),
        (lambda: mem.forget("no-such-id"), NotFound),
    ):
        with pytest.raises(error):
            call()
    assert dump(tmp_path / "mem") == before
    nothing = mem.forget(namespace="never-used")  # an unknown namespace: nothing to erase, not an error
    assert (nothing.events, nothing.facts_deleted, nothing.episodes_before) == (0, 0, 0)
    assert dump(tmp_path / "mem") == before
    mem.close()


def test_forget_by_query_erases_the_top_k_by_plain_similarity(memory: Memory) -> None:
    events = chat(memory, ["my bank pin is 4711", "the bank pin again: 4711", "lunch was nice", "see you"])
    chat(memory, ["my bank pin is 4711"], namespace="other")
    report = memory.forget(query="bank pin 4711", namespace="ann", k=2)
    assert set(report.event_ids) == {events[0].id, events[1].id}
    assert [e.event_count for e in memory.timeline("ann")] == [2]
    assert len(memory.recall("bank pin 4711", namespace="other")) == 1


# -- segmentation after erasure ----------------------------------------------------------------


def _topic_items(n: int, seed: int) -> list[dict[str, object]]:
    topics = [["pasta", "tomato", "basil", "garlic", "sauce"], ["guitar", "chord", "song", "band", "drum"]]
    rng = np.random.default_rng(seed)
    return [
        {
            "id": f"e{i:03d}",
            "text": " ".join(rng.choice(topics[(i // 15) % 2], size=5)),
            "session": f"s{i // 40}",
            "occurred_at": T0 + timedelta(minutes=i + 4 * (i // 10)),  # a 5-minute pause every 10 events
        }
        for i in range(n)
    ]


def _shape(mem: Memory, namespace: str = "n") -> list[tuple]:
    rows = mem.timeline(namespace)
    return [(e.id, e.first_event_id, e.last_event_id, e.event_count, e.gist, e.boundary, e.closed) for e in rows]


def test_segmenting_again_gives_the_episodes_of_a_store_that_never_held_the_erased_events(tmp_path: Path) -> None:
    """Shortcut = slow path, with the settings the namespace was first segmented with."""
    config = SegmentationConfig(min_episode=3, time_gap=120.0)
    items = _topic_items(90, seed=4)
    erased = {"e007", "e031", "e044", "e089"}
    mem = opened(tmp_path / "mem", segmentation=config)
    mem.remember_many(items, namespace="n")
    mem.close()
    later = opened(tmp_path / "mem")  # opened without the settings: the saved ones apply
    for event_id in sorted(erased):
        later.forget(event_id)
    fresh = opened(":memory:", segmentation=config)
    fresh.remember_many([i for i in items if i["id"] not in erased], namespace="n")
    assert _shape(later) == _shape(fresh)
    kept = [str(i["id"]) for i in items if i["id"] not in erased]
    assert [later.get(i).surprise for i in kept] == pytest.approx([fresh.get(i).surprise for i in kept])
    default = opened(":memory:")  # the default settings cut elsewhere: the saved ones were used
    default.remember_many([i for i in items if i["id"] not in erased], namespace="n")
    assert _shape(default) != _shape(fresh)
    later.close()


def test_segmenting_from_nothing_is_deterministic() -> None:
    items = _topic_items(70, seed=9)
    runs = []
    for _ in range(2):
        mem = opened(":memory:")
        mem.remember_many(items, namespace="n")
        runs.append((_shape(mem), [mem.get(str(i["id"])).surprise for i in items]))
    assert runs[0] == runs[1]


# -- other Memory objects, other threads ---------------------------------------------------------


def test_another_memory_on_the_store_stops_returning_erased_events(tmp_path: Path) -> None:
    writer, reader = opened(tmp_path / "mem"), opened(tmp_path / "mem")
    events = chat(writer, ["my locker code is 9182", "lunch was nice", "the weather is grey"])
    assert reader.recall("locker code 9182", namespace="ann", k=1)[0].event.id == events[0].id  # cached now
    assert reader.timeline("ann")
    writer.forget(events[0].id)
    assert events[0].id not in [h.event.id for h in reader.recall("locker code 9182", namespace="ann")]
    assert all("9182" not in e.gist for e in reader.timeline("ann"))
    reader.remember("a new note", namespace="ann", session="s1", occurred_at=T0 + timedelta(minutes=9))
    assert sum(e.event_count for e in writer.timeline("ann")) == 3
    assert _shape(reader, "ann") == _shape(writer, "ann")
    writer.close()
    reader.close()


def test_forget_beside_a_thread_that_remembers_recalls_and_consolidates(tmp_path: Path) -> None:
    """Concurrent work in the same process neither fails nor brings back what was erased."""
    mem = opened(tmp_path / "mem")
    words = [w for w, _ in SECRET + KEPT]
    secret = chat(mem, [f"I like {w}" for w in words])
    mem.consolidate("ann")
    failures: list[BaseException] = []
    rounds = [0]
    stop = threading.Event()

    def busy() -> None:
        try:
            while not stop.is_set():
                mem.remember(f"I work at Firm{rounds[0]}", namespace="ann", session="s1", occurred_at=T0)
                mem.recall("I like", namespace="ann")
                mem.consolidate("ann")
                rounds[0] += 1
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    worker = threading.Thread(target=busy)
    worker.start()
    for event in secret:
        seen = rounds[0]
        for _ in range(2000):  # let the worker get through a round between two erasures
            if rounds[0] > seen or failures:
                break
            stop.wait(0.005)
        mem.forget(event.id)
    stop.set()
    worker.join()
    assert not failures and rounds[0] >= len(secret)
    mem.consolidate("ann")
    facts = mem.facts("ann", include_superseded=True)
    assert facts and not {f.object for f in facts} & set(words)
    assert not {s for f in facts for s in f.sources} & {e.id for e in secret}
    episodes = mem.timeline("ann")
    assert sum(e.event_count for e in episodes) == mem.stats()["namespaces"]["ann"]
    assert not [w for w in words for e in episodes if w in e.gist]
    assert not [h for h in mem.recall(" ".join(words), namespace="ann") if h.event.id in {e.id for e in secret}]
    mem.close()


def test_events_by_seq_skips_events_erased_after_a_ranking(store) -> None:
    """What recall does when a concurrent ``forget`` erased some of its hits before it read them."""
    store.bind_model("m", 8)
    events = [_event("alpha one"), _event("alpha two"), _event("alpha three")]
    seqs = store.add(events, _unit(3))
    store.erase("ns", [events[1].id])
    assert events_by_seq(store, seqs) == {seqs[0]: events[0], seqs[2]: events[2]}


# -- the store contract ----------------------------------------------------------------------


def _event(text: str, namespace: str = "ns", **metadata: object) -> Event:
    return Event(id=new_id(), namespace=namespace, text=text, occurred_at=T0, recorded_at=T0, metadata=metadata)


def _unit(n: int) -> np.ndarray:
    rows = np.random.default_rng(0).normal(size=(n, 8)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _fact(
    fact_id: str, sources: list[Event], seqs: list[int], *, subject: str = "p1", obj: str | None = None
) -> FactRow:
    fact = Fact(
        id=fact_id,
        namespace="ns",
        subject="Ann",
        predicate="likes",
        object=fact_id,
        subject_id=subject,
        object_id=obj,
        valid_from=T0,
        valid_to=None,
        confidence=0.8,
        sources=tuple(e.id for e in sources),
        recorded_at=T0,
    )
    return FactRow(fact, tuple(seqs), _unit(1)[0])


def test_store_erase_removes_events_and_what_only_they_support(store) -> None:
    store.bind_model("m", 8)
    events = [_event("apple pie"), _event("apple tart"), _event("pear"), _event("apple", "other")]
    seqs = store.add(events, _unit(4))
    episode = EpisodeRow(_episode(events[0]), first_seq=seqs[0], last_seq=seqs[2], centroid=_unit(1)[0])
    assert store.save_segmentation("ns", seen_seq=0, new_seq=seqs[2], state=b"x", surprise=[], episodes=[episode])
    entities = [Entity("p1", "ns", "Ann"), Entity("o1", "ns", "Pie")]
    facts = [_fact("f1", events[:1], seqs[:1], obj="o1"), _fact("f2", events[:2], seqs[:2])]
    assert store.save_consolidation("ns", seen_seq=0, new_seq=seqs[2], entities=entities, facts=facts)
    held = [("event", events[0].id), ("event", events[1].id), ("fact", "f1"), ("episode", episode.episode.id)]
    store.save_strengths("ns", [StrengthRow(kind, key, 1.0, 0.0, 1) for kind, key in held])
    assert store.erasures("ns") == 0
    erasure = store.erase("ns", [events[0].id, events[3].id, "unknown"])  # one of another namespace, one unknown
    assert (erasure.ids, erasure.seqs) == ((events[0].id,), (seqs[0],))
    assert erasure.facts_deleted == ("f1",) and erasure.entities_deleted == ("o1",) and erasure.episodes == 1
    assert store.events(seqs) == [events[1], events[2], events[3]]
    assert [s for s, _ in store.lexical("ns", ["apple"], 10, Filter())] == [seqs[1]]
    assert store.lexical("other", ["apple"], 10, Filter())[0][0] == seqs[3]
    assert list(store.vectors("ns").seqs) == seqs[1:3] and store.seqs("ns") == seqs[1:3]
    [f2] = store.facts("ns")
    assert f2.fact.sources == (events[1].id,) and f2.source_seqs == (seqs[1],)
    assert [e.id for e in store.entities("ns")] == ["p1"]
    assert store.episodes("ns") == [] and store.segmentation_state("ns") == (0, None)
    assert [(row.kind, row.id) for row in store.strengths("ns")[1]] == [("event", events[1].id)]
    assert store.erasures("ns") == 1 and store.erasures("other") == 0
    assert store.erase("ns", ["unknown"]).seqs == () and store.erasures("ns") == 1  # nothing erased, not counted


def test_store_erase_of_a_whole_namespace_keeps_the_others(store) -> None:
    store.bind_model("m", 8)
    events = [_event("apple"), _event("pear"), _event("apple", "other")]
    seqs = store.add(events, _unit(3))
    assert store.save_consolidation("ns", seen_seq=0, new_seq=seqs[1], entities=[Entity("p1", "ns", "Ann")], facts=[])
    erasure = store.erase("ns", None)
    assert erasure.whole and erasure.seqs == tuple(seqs[:2]) and erasure.entities_deleted == ("p1",)
    assert store.seqs("ns") == [] and store.entities("ns") == [] and store.consolidation_state("ns") == 0
    assert store.stats()["namespaces"] == {"other": 1} and store.events(seqs) == [events[2]]
    assert store.erasures("ns") == 1


def test_the_consolidation_checkpoint_never_rests_on_an_erased_seq(store) -> None:
    """SQLite hands the highest erased seq to the next event; a checkpoint there would skip it."""
    store.bind_model("m", 8)
    events = [_event("one"), _event("two"), _event("three")]
    seqs = store.add(events, _unit(3))
    assert store.save_consolidation("ns", seen_seq=0, new_seq=seqs[2], entities=[], facts=[])
    store.erase("ns", [events[2].id])
    assert store.consolidation_state("ns") == seqs[1]
    [new] = store.add([_event("four")], _unit(1))
    assert new > store.consolidation_state("ns")


def _episode(event: Event) -> Episode:
    return Episode(
        id=f"ep-{event.id}",
        namespace=event.namespace,
        started_at=T0,
        ended_at=T0,
        recorded_at=T0,
        event_count=3,
        first_event_id=event.id,
        last_event_id=event.id,
        participants=(),
        gist=event.text,
        boundary="first",
        closed=False,
    )


# -- erasure leaves no row in any table ---------------------------------------------------------

CORPUS = [
    "I live in Berlin",
    "I love tea",
    "my dog Pico is funny",
    "I moved to Lisbon",
    "I love tea so much",
    "I work at Acme",
    "the weather is grey",
    "I moved to Porto",
    "I hate tea now",
    "I work at Initech",
]
SEQ_COLUMNS = {  # columns holding an event's seq (the rest hold ids, which every column is scanned for)
    "events": ["seq"],
    "vectors": ["seq"],
    "events_fts_docsize": ["id"],
    "episodes": ["first_seq", "last_seq"],
    "segmenters": ["seen_seq"],
    "consolidation": ["seen_seq"],
}


@settings(max_examples=12, deadline=None)
@given(chosen=st.sets(st.integers(min_value=0, max_value=len(CORPUS) + 2), min_size=1, max_size=8))
def test_erasure_leaves_no_row_in_any_table_naming_an_erased_event(chosen: set[int]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory)
        mem = opened(path)
        events = chat(mem, CORPUS[:5], session="a") + chat(mem, CORPUS[5:], session="b", day=3)
        events.append(mem.reflect("Ann moves", sources=[events[3].id, events[7].id], namespace="ann"))
        events.append(mem.reflect("Ann and tea", sources=[events[1].id, events[-1].id], namespace="ann"))
        events.append(mem.reflect("Ann's jobs", sources=[events[5].id], namespace="ann"))
        mem.consolidate("ann")
        mem.recall("tea Lisbon Acme", namespace="ann", k=20)  # strength rows for events
        mem.recall_episodes("tea Lisbon Acme", namespace="ann")  # and for episodes
        seqs = {e.id: s for s, e in zip(mem.store.seqs("ann"), mem.store.events(mem.store.seqs("ann")), strict=True)}
        erased: set[str] = set()
        for i in sorted(chosen):
            if events[i].id not in erased:
                erased |= set(mem.forget(events[i].id).event_ids)
        mem.close()
        gone_seqs = {seqs[i] for i in erased}
        for table, rows in dump(path).items():
            for row in rows:
                assert not any(i in str(value) for value in row for i in erased), (table, row)
        db = sqlite3.connect(str(path / "engram.db"))
        for table, columns in SEQ_COLUMNS.items():
            for column in columns:
                assert not {r[0] for r in db.execute(f"SELECT {column} FROM {table}")} & gone_seqs, (table, column)
        for (sources,) in db.execute("SELECT source_seqs FROM facts"):
            assert not set(json.loads(sources)) & gone_seqs
        db.execute("INSERT INTO events_fts (events_fts) VALUES ('integrity-check')")  # index = content
        remaining = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        episodes = db.execute("SELECT COALESCE(SUM(event_count), 0) FROM episodes").fetchone()[0]
        db.close()
        assert remaining == len(events) - len(erased) == episodes


# -- the command ------------------------------------------------------------------------------


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ENGRAM_EMBEDDER", "hash")
    monkeypatch.delenv("ENGRAM_HOME", raising=False)
    for name in ("ENGRAM_LLM_URL", "ENGRAM_LLM_MODEL", "ENGRAM_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return str(tmp_path / "mem")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _remember(capsys: pytest.CaptureFixture[str], home: str, text: str, namespace: str = "default") -> str:
    code, out, _ = run(capsys, "--home", home, "remember", text, "-n", namespace)
    assert code == 0
    return out.strip()


def _count(capsys: pytest.CaptureFixture[str], home: str) -> dict[str, int]:
    code, out, _ = run(capsys, "--home", home, "stats")
    return json.loads(out)["namespaces"]


def test_cli_forget_with_yes_erases_and_prints_the_counts(capsys: pytest.CaptureFixture[str], cli_home: str) -> None:
    event_id = _remember(capsys, cli_home, "my locker code is 9182")
    _remember(capsys, cli_home, "lunch was nice")
    code, out, err = run(capsys, "--home", cli_home, "forget", event_id, "--yes")
    assert (code, err) == (0, "")
    assert "would erase from namespace 'default': 1 event (0 of them" in out and "my locker code is 9182" in out
    assert "erased 1 event" in out and "episodes 1 -> 1" in out
    assert _count(capsys, cli_home) == {"default": 1}
    code, out, _ = run(capsys, "--home", cli_home, "forget", "--query", "lunch", "-k", "1", "--yes", "--json")
    assert code == 0 and json.loads(out)["events"] == 1 and _count(capsys, cli_home) == {}


def test_cli_forget_without_a_terminal_or_yes_erases_nothing(
    capsys: pytest.CaptureFixture[str], cli_home: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _remember(capsys, cli_home, "one", "work")
    _remember(capsys, cli_home, "two", "work")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # piped input is no confirmation
    code, out, err = run(capsys, "--home", cli_home, "forget", "--namespace", "work", "--all")
    assert code == 2 and "would erase from namespace 'work': 2 events" in out and "--yes" in err
    assert _count(capsys, cli_home) == {"work": 2}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "left"), [("y\n", {}), ("n\n", {"work": 2}), ("\n", {"work": 2})])
def test_cli_forget_asks_on_a_terminal(
    capsys: pytest.CaptureFixture[str], cli_home: str, monkeypatch: pytest.MonkeyPatch, answer: str, left: dict
) -> None:
    _remember(capsys, cli_home, "one", "work")
    _remember(capsys, cli_home, "two", "work")
    monkeypatch.setattr("sys.stdin", _Terminal(answer))
    code, out, _ = run(capsys, "--home", cli_home, "forget", "-n", "work", "--all")
    assert code == 0 and "This cannot be undone [y/N]" in out
    assert _count(capsys, cli_home) == left


@pytest.mark.parametrize(
    "argv",
    [["forget"], ["forget", "--all"], ["forget", "some-id", "--all", "-n", "x"], ["forget", "-n", "x"]],
)
def test_cli_forget_needs_one_target(capsys: pytest.CaptureFixture[str], cli_home: str, argv: list[str]) -> None:
    code, out, err = run(capsys, "--home", cli_home, *argv, "--yes")
    assert code == 2 and out == "" and err.startswith("engram: error: ")


def test_cli_forget_dry_run_and_nothing_to_erase(capsys: pytest.CaptureFixture[str], cli_home: str) -> None:
    event_id = _remember(capsys, cli_home, "keep me")
    code, out, _ = run(capsys, "--home", cli_home, "forget", event_id, "--dry-run")
    assert code == 0 and "would erase" in out and _count(capsys, cli_home) == {"default": 1}
    code, out, _ = run(capsys, "--home", cli_home, "forget", "-n", "empty", "--all")
    assert code == 0 and "nothing to erase" in out
    code, _, err = run(capsys, "--home", cli_home, "forget", "no-such-id", "--yes")
    assert code == 2 and "no event with id" in err


def test_report_is_exported_and_carries_no_text() -> None:
    fields = {f.name for f in dataclasses.fields(ForgetReport)}
    assert "event_ids" in fields and not {"text", "texts"} & fields
