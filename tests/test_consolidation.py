"""Consolidation end to end through ``Memory``: facts, entities, supersession, checkpoints, reflections.

The extractor here is an honest twin of the rule extractor (``twins.TwinExtractor``): a
handful of deterministic first-person patterns, so these tests pin consolidation, not
extraction quality.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest
from twins import TwinExtractor

from engram import HashEmbedder, Memory
from engram.errors import InvalidInput, LLMError, NotFound

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _stream(mem: Memory, texts: Sequence[str], *, namespace: str = "ann", start: int = 0) -> list[str]:
    items = [
        {"text": t, "speaker": "Ann", "session": f"s{(start + i) // 4}", "occurred_at": T0 + timedelta(days=start + i)}
        for i, t in enumerate(texts)
    ]
    return [e.id for e in mem.remember_many(items, namespace=namespace)]


@pytest.fixture(params=["sqlite", "memory"])
def memory(request, tmp_path):
    path = tmp_path / "mem" if request.param == "sqlite" else ":memory:"
    mem = Memory(path, embedder=HashEmbedder(dim=64), extractor=TwinExtractor())
    yield mem
    mem.close()


def test_facts_carry_provenance_and_entities(memory) -> None:
    ids = _stream(memory, ["Hi there!", "I live in Berlin and I love hiking.", "my dog Pico is funny"])
    report = memory.consolidate("ann")
    assert (report.events, report.inserted) == (3, 3)
    facts = {f.predicate: f for f in memory.facts("ann")}
    assert facts["lives_in"].object == "Berlin" and facts["lives_in"].sources == (ids[1],)
    assert facts["has_pet"].object_id is not None and facts["likes"].object_id is None
    names = {e.name: e for e in memory.entities("ann")}
    assert set(names) == {"Ann", "Berlin", "Pico"}
    assert (names["Ann"].type, names["Berlin"].type, names["Pico"].type) == ("person", "place", "pet")
    assert facts["lives_in"].valid_from == T0 + timedelta(days=1)


def test_a_move_supersedes_the_old_home_and_nothing_is_deleted(memory) -> None:
    _stream(memory, ["I live in Berlin.", "nice weather", "I moved to Lisbon!"])
    memory.consolidate("ann")
    homes = [f for f in memory.facts("ann", include_superseded=True) if f.predicate == "lives_in"]
    berlin, lisbon = sorted(homes, key=lambda f: f.valid_from)
    assert (berlin.object, lisbon.object) == ("Berlin", "Lisbon")
    assert berlin.valid_to == lisbon.valid_from == T0 + timedelta(days=2)
    assert berlin.superseded_by == lisbon.id and lisbon.current
    assert [f.object for f in memory.facts("ann", about="Ann") if f.predicate == "lives_in"] == ["Lisbon"]
    then = [f.object for f in memory.facts("ann", at=T0 + timedelta(days=1)) if f.predicate == "lives_in"]
    assert then == ["Berlin"]
    assert memory.stats()["facts"] == 3  # lives in Berlin (ended), moved to Lisbon, lives in Lisbon


def test_an_older_claim_ingested_late_is_stored_already_ended(memory) -> None:
    items = [
        {"text": "I work at Acme.", "speaker": "Ann", "occurred_at": T0 + timedelta(days=10)},
        {"text": "Back then I work at Initech.", "speaker": "Ann", "occurred_at": T0 + timedelta(days=1)},
    ]
    memory.remember_many(items, namespace="ann")
    memory.consolidate("ann")
    jobs = {f.object: f for f in memory.facts("ann", include_superseded=True)}
    assert jobs["Acme"].current and not jobs["Initech"].current
    assert jobs["Initech"].superseded_by == jobs["Acme"].id
    assert jobs["Initech"].valid_to == jobs["Acme"].valid_from


def test_opposite_preference_supersedes(memory) -> None:
    _stream(memory, ["I love jazz", "I hate jazz"])
    memory.consolidate("ann")
    [now] = memory.facts("ann")
    assert (now.predicate, now.object) == ("dislikes", "jazz")


def test_repeated_facts_merge_their_sources(memory) -> None:
    ids = _stream(memory, ["I love tea", "really, I love tea", "I love tea so much"])
    report = memory.consolidate("ann")
    [tea] = memory.facts("ann")
    assert tea.sources == tuple(ids) and (report.inserted, report.merged) == (1, 2)
    assert tea.confidence == pytest.approx(1 - 0.2**3)


def test_consolidation_is_idempotent_and_incremental(memory) -> None:
    _stream(memory, ["I live in Oslo"] + [f"filler {i}" for i in range(40)])
    first = memory.consolidate("ann")
    again = memory.consolidate("ann")
    assert first.events == 41 and again.events == 0 and again.chunks == 0
    _stream(memory, ["I like chess"], start=41)
    assert memory.consolidate("ann").events == 1
    assert sorted(f.object for f in memory.facts("ann")) == ["Oslo", "chess"]


def test_a_crash_mid_consolidation_resumes_from_the_last_checkpoint(tmp_path) -> None:
    texts = [f"I like thing{i}" for i in range(100)]
    broken = Memory(tmp_path / "a", embedder=HashEmbedder(dim=64), extractor=TwinExtractor(fail_after=40))
    _stream(broken, texts)
    with pytest.raises(LLMError):
        broken.consolidate("ann")
    saved = broken.store.consolidation_state("ann")
    assert 0 < saved < broken.store.last_seq("ann")  # some chunks were checkpointed
    broken.close()
    resumed = Memory(tmp_path / "a", embedder=HashEmbedder(dim=64), extractor=TwinExtractor())
    resumed.consolidate("ann")
    whole = Memory(tmp_path / "b", embedder=HashEmbedder(dim=64), extractor=TwinExtractor())
    _stream(whole, texts)
    whole.consolidate("ann")

    def shape(mem: Memory) -> list[tuple[str, str, int]]:
        return sorted((f.predicate, f.object, len(f.sources)) for f in mem.facts("ann", include_superseded=True))

    assert shape(resumed) == shape(whole) and len(shape(whole)) == 100
    resumed.close()
    whole.close()


def test_consolidation_runs_beside_a_writer_thread(tmp_path) -> None:
    mem = Memory(tmp_path / "m", embedder=HashEmbedder(dim=64), extractor=TwinExtractor())
    _stream(mem, [f"I like item{i}" for i in range(60)])
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for i in range(60, 120):
                _stream(mem, [f"I like item{i}"], start=i)
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    mem.consolidate("ann")
    writer.join()
    mem.consolidate("ann")
    assert not errors
    assert len(mem.facts("ann")) == 120
    mem.close()


def test_two_stores_of_one_file_never_double_count(tmp_path) -> None:
    a = Memory(tmp_path / "m", embedder=HashEmbedder(dim=64), extractor=TwinExtractor())
    b = Memory(tmp_path / "m", embedder=HashEmbedder(dim=64), extractor=TwinExtractor())
    _stream(a, [f"I like thing{i}" for i in range(50)])
    ra, rb = a.consolidate("ann"), b.consolidate("ann")
    assert ra.events + rb.events == 50
    assert all(len(f.sources) == 1 for f in b.facts("ann"))
    a.close()
    b.close()


def test_entities_never_merge_across_namespaces(memory) -> None:
    _stream(memory, ["I live in Rome"], namespace="one")
    _stream(memory, ["I live in Rome"], namespace="two")
    memory.consolidate()
    one, two = memory.entities("one"), memory.entities("two")
    assert {e.name for e in one} == {e.name for e in two} == {"Ann", "Rome"}
    assert not {e.id for e in one} & {e.id for e in two}


def test_profile_lists_current_facts_of_the_main_subject(memory) -> None:
    _stream(memory, ["I live in Berlin", "I love hiking", "I moved to Lisbon", "I love tea", "I love hiking"])
    memory.consolidate("ann")
    profile = memory.profile("ann")
    assert profile.subject == "Ann"
    assert [f.object for f in profile.facts["lives_in"]] == ["Lisbon"]
    assert [f.object for f in profile.facts["likes"]] == ["hiking", "tea"]  # twice-said first
    assert "Ann lives in: Lisbon" in profile.text
    with pytest.raises(NotFound):
        memory.profile("ann", subject="Zed")


def test_reflections_are_recalled_and_linked_but_not_mined(memory) -> None:
    ids = _stream(memory, ["I love sailing", "I love the sea"])
    thought = memory.reflect("I love boats, so a boat trip suits Ann's birthday.", sources=ids, namespace="ann")
    assert thought.metadata == {"kind": "reflection", "sources": ids}
    hits = memory.recall("boat trip birthday", namespace="ann", k=1)
    assert hits[0].event.id == thought.id
    memory.consolidate("ann")
    assert {f.object for f in memory.facts("ann")} == {"sailing", "the"}  # "boats" came from the reflection


def test_reflect_rejects_bad_sources_and_stores_nothing(memory) -> None:
    ids = _stream(memory, ["hello"])
    before = memory.stats()["events"]
    with pytest.raises(InvalidInput):
        memory.reflect("x", sources=[], namespace="ann")
    with pytest.raises(NotFound):
        memory.reflect("x", sources=["nope"], namespace="ann")
    with pytest.raises(InvalidInput):
        memory.reflect("x", sources=ids, namespace="other")
    assert memory.stats()["events"] == before
