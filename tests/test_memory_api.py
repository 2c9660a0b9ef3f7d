"""The public Memory API on both backends, with the deterministic hash embedder."""

from __future__ import annotations

import types
from datetime import datetime, timedelta, timezone

import pytest

import engram
from engram import HashEmbedder, Memory
from engram.errors import InvalidInput, ModelMismatch, NotFound

T0 = datetime(2023, 5, 1, 12, 0, tzinfo=timezone.utc)

CHAT = [
    ("alice", "s1", 0, "I moved to Lisbon in May after five years in Berlin."),
    ("bob", "s1", 1, "That sounds amazing, how is the weather there?"),
    ("alice", "s1", 2, "Sunny most days. I also adopted a cat called Miso."),
    ("bob", "s2", 60 * 24 * 7, "I started a new job as a baker last week."),
    ("alice", "s2", 60 * 24 * 7 + 1, "Congratulations on the bakery job! Do you bake sourdough?"),
    ("bob", "s2", 60 * 24 * 7 + 2, "Yes, sourdough and rye bread every morning."),
]


def ingest(mem: Memory) -> list[engram.Event]:
    items = [
        {"text": text, "speaker": who, "session": s, "occurred_at": T0 + timedelta(minutes=m), "metadata": {"n": i}}
        for i, (who, s, m, text) in enumerate(CHAT)
    ]
    return mem.remember_many(items, namespace="chat")


def test_exported_names() -> None:
    names = {name for name in dir(engram) if not name.startswith("_") and name != "annotations"}
    subpackages = {name for name in names if isinstance(getattr(engram, name), types.ModuleType)} - {"errors"}
    assert set(engram.__all__) - {"__version__"} == names - subpackages
    assert engram.__all__ == sorted(engram.__all__)
    assert engram.__all__ == [
        "Context",
        "Entity",
        "Episode",
        "EpisodeHit",
        "Event",
        "Fact",
        "ForgetReport",
        "HashEmbedder",
        "Hit",
        "Memory",
        "MiniLMEmbedder",
        "Profile",
        "RecallConfig",
        "Strength",
        "WorkingMemory",
        "__version__",
        "errors",
    ]


def test_remember_returns_stored_event(mem: Memory) -> None:
    event = mem.remember(
        "I moved to Lisbon in May.",
        namespace="alice",
        speaker="alice",
        session="s1",
        occurred_at=T0,
        metadata={"source": "chat"},
    )
    assert mem.get(event.id) == event
    assert event.occurred_at == T0 and event.recorded_at >= event.occurred_at
    assert event.metadata == {"source": "chat"}


def test_recall_finds_the_relevant_event_with_evidence(mem: Memory) -> None:
    events = ingest(mem)
    hits = mem.recall("which city did alice move to, Lisbon?", namespace="chat", k=3)
    assert hits[0].event == events[0]
    assert hits[0].components["lexical_rank"] == 1
    assert {"dense", "dense_rank", "lexical"} <= set(hits[0].components)
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert "lexical #1" in hits[0].why()


def test_recall_is_scoped_to_namespace(mem: Memory) -> None:
    ingest(mem)
    mem.remember("Lisbon is also where carol lives.", namespace="carol")
    assert all(h.event.namespace == "chat" for h in mem.recall("Lisbon", namespace="chat", k=10))
    assert [h.event.namespace for h in mem.recall("Lisbon", namespace="carol")] == ["carol"]
    assert mem.recall("Lisbon", namespace="nobody") == []


def test_recall_filters_by_session_and_time(mem: Memory) -> None:
    events = ingest(mem)
    in_s2 = mem.recall("bread job bakery", namespace="chat", session="s2", k=10)
    assert {h.event.session for h in in_s2} == {"s2"}
    early = mem.recall("bread job bakery", namespace="chat", until=T0 + timedelta(days=1), k=10)
    assert {h.event.id for h in early} <= {e.id for e in events[:3]}
    late = mem.recall("Lisbon", namespace="chat", since=T0 + timedelta(days=1), k=10)
    assert all(h.event.occurred_at >= T0 + timedelta(days=1) for h in late)


def test_context_packs_chronologically_within_budget(mem: Memory) -> None:
    ingest(mem)
    ctx = mem.context("bread bakery sourdough job", namespace="chat", budget_tokens=60)
    assert 0 < ctx.tokens <= 60
    assert list(ctx.events) == sorted(ctx.events, key=lambda e: e.occurred_at)
    assert all(e.text in ctx.text for e in ctx.events)
    full = mem.context("bread bakery sourdough job", namespace="chat", budget_tokens=2000)
    assert len(full.events) == len(CHAT) and "## session s1" in full.text


def test_bad_input_is_rejected_and_nothing_is_stored(mem: Memory) -> None:
    bad_calls = [
        lambda: mem.remember("   ", namespace="x"),
        lambda: mem.remember("fine", namespace="bad namespace!"),
        lambda: mem.remember("fine", namespace="x", occurred_at=datetime(2023, 1, 1)),
        lambda: mem.remember("x" * 200_001, namespace="x"),
        lambda: mem.remember("fine", namespace="x", metadata={"f": object()}),
        lambda: mem.remember_many([{"text": "ok"}, {"text": ""}], namespace="x"),
        lambda: mem.remember_many([{"text": "ok", "when": "yesterday"}], namespace="x"),
        lambda: mem.recall("", namespace="x"),
        lambda: mem.recall("q", namespace="x", k=0),
        lambda: mem.recall("q", namespace="x", at=datetime(2023, 1, 1)),
        lambda: mem.context("q", namespace="x", budget_tokens=0),
    ]
    for call in bad_calls:
        with pytest.raises(InvalidInput):
            call()
    assert mem.stats()["events"] == 0


def test_error_names_the_bad_item() -> None:
    mem = Memory(":memory:", embedder=HashEmbedder())
    with pytest.raises(InvalidInput, match="item 1.*naive"):
        mem.remember_many([{"text": "ok"}, {"text": "ok", "occurred_at": datetime(2020, 1, 1)}])


def test_iso_strings_are_accepted_for_times(mem: Memory) -> None:
    event = mem.remember("hello", occurred_at="2023-05-08T13:56:00+02:00")
    assert event.occurred_at == datetime(2023, 5, 8, 11, 56, tzinfo=timezone.utc)


def test_get_unknown_raises_not_found(mem: Memory) -> None:
    with pytest.raises(NotFound):
        mem.get("does-not-exist")


def test_reopen_keeps_events_and_refuses_other_model(tmp_path) -> None:
    with Memory(tmp_path, embedder=HashEmbedder(dim=64)) as mem:
        event = mem.remember("kept across restarts", namespace="n")
    with Memory(tmp_path, embedder=HashEmbedder(dim=64)) as mem:
        assert mem.recall("restarts", namespace="n")[0].event == event
    with pytest.raises(ModelMismatch, match="hash-64"):
        Memory(tmp_path, embedder=HashEmbedder(dim=128))


def test_second_writer_is_seen_by_first_reader(tmp_path) -> None:
    reader = Memory(tmp_path, embedder=HashEmbedder())
    reader.remember("first note about tea", namespace="n")
    assert len(reader.recall("tea", namespace="n")) == 1
    writer = Memory(tmp_path, embedder=HashEmbedder())
    writer.remember("second note about tea", namespace="n")
    assert len(reader.recall("tea", namespace="n")) == 2
    reader.close()
    writer.close()


def test_memory_uses_engram_home(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ENGRAM_HOME", str(tmp_path / "home"))
    with Memory(embedder=HashEmbedder()) as mem:
        mem.remember("stored under ENGRAM_HOME")
    assert (tmp_path / "home" / "engram.db").exists()
