"""The in-process BM25 index against its oracle, SQLite FTS5, and against itself built in chunks."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from engram.core.records import Event
from engram.index.lexical import LexicalIndex, query_terms
from engram.interfaces.cli.demo_cmd import sample_events
from engram.stores.base import Filter, index_text
from engram.stores.sqlite import SQLiteStore

QUERIES = [
    "Where did Maya move?",
    "dog rescue name",
    "Japan trip cities",
    "marathon training October",
    "new job data analyst",
    "cat Miso",
    "wedding sister",
    "Berlin architects studio",
]


def sample() -> list[Event]:
    when = datetime(2024, 1, 1, tzinfo=timezone.utc)
    return [
        Event(
            id=f"e{i}", namespace="ns", text=item["text"], speaker=item["speaker"], occurred_at=when, recorded_at=when
        )
        for i, item in enumerate(sample_events())
    ]


def test_top_hits_agree_with_fts5(tmp_path) -> None:
    events = sample()
    store = SQLiteStore(tmp_path)
    store.bind_model("m", 4)
    seqs = store.add(events, np.ones((len(events), 4), dtype=np.float32) / 2)
    index = LexicalIndex()
    index.add([index_text(e.speaker, e.text) for e in events])
    overlaps = []
    for query in QUERIES:
        terms = query_terms(query)
        oracle = [s for s, _ in store.lexical("ns", terms, 5, Filter())]
        ours = [seqs[row] for row, _ in index.search(terms, 5)]
        assert ours[0] == oracle[0], query  # the best match is the same
        overlaps.append(len(set(oracle) & set(ours)) / max(len(oracle), 1))
    assert np.mean(overlaps) >= 0.8
    store.close()


def test_chunked_build_equals_one_shot() -> None:
    texts = [index_text(e.speaker, e.text) for e in sample()]
    whole = LexicalIndex()
    whole.add(texts)
    chunked = LexicalIndex()
    for start in range(0, len(texts), 7):
        chunked.add(texts[start : start + 7])
    for query in QUERIES:
        assert whole.search(query_terms(query), 10) == chunked.search(query_terms(query), 10)


def test_stemming_matches_word_forms_and_allow_mask_filters() -> None:
    index = LexicalIndex()
    index.add(["She was running every morning", "Runs are good", "Nothing relevant here"])
    assert {row for row, _ in index.search(["run"], 10)} == {0, 1}
    allow = np.array([False, True, True])
    assert [row for row, _ in index.search(["run"], 10, allow)] == [1]
    assert index.search(["zebra"], 10) == []


def test_grouped_search_equals_indexing_the_concatenated_documents() -> None:
    """Shortcut = slow path: BM25 over groups of rows equals BM25 over the joined texts."""
    rows = [
        "we planted tomatoes in the garden",
        "the tomatoes need water every day",
        "my guitar has a broken string",
        "new strings for the guitar arrive monday",
        "garden party with guitar music",
        "nothing to see here",
    ]
    groups = np.array([0, 0, 1, 1, 2, -1])
    by_row = LexicalIndex()
    by_row.add(rows)
    joined = LexicalIndex()
    joined.add([" ".join(rows[i] for i in range(len(rows)) if groups[i] == g) for g in range(3)])
    for query in (["tomatoes"], ["guitar", "garden"], ["string", "water", "party"], ["absent"]):
        grouped = by_row.search_groups(query, groups, 10)
        direct = joined.search(query, 10)
        assert [g for g, _ in grouped] == [d for d, _ in direct]
        np.testing.assert_allclose([s for _, s in grouped], [s for _, s in direct], rtol=1e-5)
