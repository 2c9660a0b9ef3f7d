"""Related words: a query word cues stored words near it in embedding space, and recall ranks
events by them (``engram.index.words`` and the ``related_words`` ranking of ``recall``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np
import pytest

from engram import HashEmbedder, Memory
from engram.cognition.recall import RecallConfig
from engram.index.lexical import LexicalIndex, stems
from engram.index.words import PER_WORD, RELATED, WordSpace

# A thesaurus twin of a semantic embedder: words of one group embed as one shared feature,
# every other word as itself (feature hashing), so "instruments" lies next to "violin".
GROUPS = {
    "music": ("instruments", "instrument", "violin", "clarinet", "cello"),
    "pets": ("pets", "pet", "cat", "hamster"),
}
_GROUP_OF = {word: group for group, words in GROUPS.items() for word in words}
_WORD = re.compile(r"[^\W_]+")


class ThesaurusEmbedder:
    """``HashEmbedder`` over words mapped to their thesaurus group: deterministic, model-free."""

    def __init__(self, dim: int = 256) -> None:
        self._hash = HashEmbedder(dim)
        self.dim = dim
        self.name = f"thesaurus-{dim}"
        self.calls: list[int] = []  # batch sizes, to see what gets embedded

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        mapped = [" ".join(_GROUP_OF.get(w, w) for w in _WORD.findall(t.lower())) for t in texts]
        return self._hash.embed(mapped)


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_word_space_embeds_each_new_stem_once_and_grows_in_order() -> None:
    embedder = ThesaurusEmbedder()
    space = WordSpace()
    surface = {"violin": "violin", "cat": "cat"}
    space.catch_up(surface, embedder.embed)
    space.catch_up(surface, embedder.embed)  # nothing new: no call
    surface["cello"] = "cello"
    space.catch_up(surface, embedder.embed)
    assert space.stems == ["violin", "cat", "cello"]
    assert embedder.calls == [2, 1]


def test_related_keeps_close_words_only_leaves_out_excluded_and_caps_per_cue() -> None:
    space = WordSpace()
    words = {"near": unit(1, 0.1, 0), "far": unit(0, 1, 0), "self": unit(1, 0, 0), "4821": unit(1, 0, 0)}
    words |= {f"w{i}": unit(1, 0.01 * (i + 1), 0) for i in range(PER_WORD + 5)}
    space.catch_up(dict(zip(words, words, strict=True)), lambda texts: np.stack([words[t] for t in texts]))
    found = space.related([unit(1, 0, 0)], exclude={"self"})
    assert "self" not in found and "far" not in found and "4821" not in found  # numbers never relate
    assert len(found) == PER_WORD
    assert all(RELATED <= weight <= 1.0 + 1e-6 for weight in found.values())
    assert space.related([], exclude=set()) == {}
    assert WordSpace().related([unit(1, 0, 0)], exclude=set()) == {}


def test_weighted_stem_search_scales_each_term_and_equals_plain_search_at_weight_one() -> None:
    index = LexicalIndex()
    index.add(["I play the violin", "my cat sleeps", "violin and cat together"])
    plain = index.search(["violin", "cat"], 3)
    assert index.search_stems(dict.fromkeys(stems(["violin", "cat"]), 1.0), 3) == plain
    halved = dict(index.search_stems({"violin": 0.5}, 3))
    full = dict(index.search_stems({"violin": 1.0}, 3))
    assert halved.keys() == full.keys() == {0, 2}
    assert all(halved[row] == pytest.approx(full[row] / 2) for row in full)
    assert index.surface["violin"] == "violin" and "the" not in index.surface


EVENTS = [  # one session each: an event is read after the one before it in its session
    {"text": "Started lessons on the cello last spring", "speaker": "Ana", "session": "s1"},
    {"text": "The weather was grey all weekend", "speaker": "Ana", "session": "s2"},
    {"text": "Lunch with colleagues near the office", "speaker": "Ana", "session": "s3"},
    {"text": "Our hamster escaped again", "speaker": "Ana", "session": "s4"},
]
QUERY = "Which instruments can she play?"


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
def test_recall_finds_an_event_through_a_related_word(tmp_path, backend: str) -> None:
    path = tmp_path / "mem" if backend == "sqlite" else ":memory:"
    with Memory(path, embedder=ThesaurusEmbedder()) as mem:
        mem.remember_many(EVENTS)
        hits = mem.recall(QUERY, k=4)
    cello = next(hit for hit in hits if "cello" in hit.event.text)
    assert "related_words_rank" in cello.components and "related_words #1" in cello.why()
    assert not any("related_words_rank" in hit.components for hit in hits if hit is not cello)


def test_recall_without_related_words_has_no_such_ranking(tmp_path) -> None:
    with Memory(tmp_path / "mem", embedder=ThesaurusEmbedder(), recall=RecallConfig(related_words=False)) as mem:
        mem.remember_many(EVENTS)
        hits = mem.recall(QUERY, k=4)
    assert hits and not any("related_words_rank" in hit.components for hit in hits)


def test_erasing_an_event_removes_its_words_from_the_word_space(tmp_path) -> None:
    with Memory(tmp_path / "mem", embedder=ThesaurusEmbedder()) as mem:
        events = mem.remember_many(EVENTS)
        mem.recall(QUERY, k=4)
        mem.forget(events[0].id)
        hits = mem.recall(QUERY, k=4)
        index = mem._indexes["default"]
    assert "cello" not in index.words.stems
    assert not any("related_words_rank" in hit.components for hit in hits)


def test_query_words_are_embedded_once_and_the_kept_set_is_bounded(monkeypatch) -> None:
    from engram.index import words as words_module

    monkeypatch.setattr(words_module, "ASKED", 3)
    embedder = ThesaurusEmbedder()
    space = WordSpace()
    first = space.vectors(["violin", "cat", "violin"], embedder.embed)
    again = space.vectors(["cat", "violin"], embedder.embed)
    assert embedder.calls == [2]  # each distinct word once, then kept
    assert np.array_equal(first[1], again[0]) and np.array_equal(first[0], first[2])
    space.vectors(["cello", "hamster"], embedder.embed)  # past the bound: the kept set starts over
    space.vectors(["violin"], embedder.embed)
    assert embedder.calls == [2, 2, 1]


def _words_files(root) -> list:
    return sorted(root.rglob("*.words.npz"))


def test_word_vectors_are_saved_at_close_and_taken_back_on_reopen(tmp_path) -> None:
    with Memory(tmp_path / "mem", embedder=ThesaurusEmbedder()) as mem:
        mem.remember_many(EVENTS)
        mem.recall(QUERY, k=4)
    (saved,) = _words_files(tmp_path)
    reopened = ThesaurusEmbedder()
    with Memory(tmp_path / "mem", embedder=reopened) as mem:
        hits = mem.recall(QUERY, k=4)
        assert len(mem._indexes["default"].words) > len(EVENTS)  # the vocabulary, from the file
    assert reopened.calls == [1, 2]  # the query, then its two content words: no vocabulary
    assert any("related_words_rank" in hit.components for hit in hits)
    saved.write_bytes(b"not a saved word space")  # a damaged file is ignored and rebuilt
    rebuilt = ThesaurusEmbedder()
    with Memory(tmp_path / "mem", embedder=rebuilt) as mem:
        assert any("related_words_rank" in hit.components for hit in mem.recall(QUERY, k=4))
    assert max(rebuilt.calls) > 3  # the vocabulary embedded again
    with np.load(saved, allow_pickle=False) as data:
        assert "cello" in data["stems"].tobytes().decode().split("\n")
        assert data["vectors"].dtype == np.float16


def test_erasure_deletes_the_saved_word_vectors_and_no_file_keeps_the_word(tmp_path, monkeypatch) -> None:
    from engram.index import words as words_module

    monkeypatch.setattr(words_module, "GRAPH_FROM", 2)  # the vocabulary's graph is saved too
    with Memory(tmp_path / "mem", embedder=ThesaurusEmbedder()) as mem:
        events = mem.remember_many(EVENTS)
        mem.recall(QUERY, k=4)
    assert _words_files(tmp_path) and list(tmp_path.rglob("*.words.usearch"))
    with Memory(tmp_path / "mem", embedder=ThesaurusEmbedder()) as mem:
        mem.recall(QUERY, k=4)
        mem.forget(events[0].id)
        assert not _words_files(tmp_path) and not list(tmp_path.rglob("*.words.usearch"))
        mem.recall(QUERY, k=4)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"cello" not in path.read_bytes(), path


def test_a_reopened_store_ranks_exactly_as_before(tmp_path) -> None:
    at = datetime(2024, 6, 1, tzinfo=timezone.utc)
    with Memory(tmp_path / "mem", embedder=ThesaurusEmbedder()) as mem:
        mem.remember_many(EVENTS)
        before = [(h.event.id, h.score) for h in mem.recall(QUERY, k=4, at=at, rehearse=False)]
    with Memory(tmp_path / "mem", embedder=ThesaurusEmbedder()) as mem:
        after = [(h.event.id, h.score) for h in mem.recall(QUERY, k=4, at=at, rehearse=False)]
    assert after == before


def test_a_large_vocabulary_is_searched_through_a_saved_graph_with_the_same_answers(tmp_path, monkeypatch) -> None:
    from engram.index import words as words_module

    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((300, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[1:4] = vectors[0] * 0.9 + vectors[1:4] * 0.3  # three close neighbours of word 0
    vectors[1:4] /= np.linalg.norm(vectors[1:4], axis=1, keepdims=True)
    surface = {f"s{i}": f"w{i}" for i in range(len(vectors))}
    lookup = {f"w{i}": v for i, v in enumerate(vectors)}

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack([lookup[t] for t in texts])

    exact = WordSpace()
    exact.catch_up(surface, embed)
    monkeypatch.setattr(words_module, "GRAPH_FROM", 100)
    path = tmp_path / "ns.words.npz"
    graphed = WordSpace(tmp_path / "ns.usearch")  # the event graph beside which words are saved
    graphed.catch_up(surface, embed)
    assert graphed._graph is not None and exact._graph is None
    cues = [vectors[0], vectors[10]]
    expected = exact.related(cues, exclude={"s0"})
    assert set(expected) >= {"s1", "s2", "s3"}
    found = graphed.related(cues, exclude={"s0"})
    assert found.keys() == expected.keys()
    assert all(found[s] == pytest.approx(expected[s], abs=1e-2) for s in found)  # f16 graph
    graphed.save()
    assert path.exists() and path.with_suffix(".usearch").exists()
    reopened = WordSpace(tmp_path / "ns.usearch")  # the event graph beside which words are saved
    reopened.catch_up(surface, lambda texts: pytest.fail("the saved vocabulary is embedded again"))
    assert reopened._graph is not None and len(reopened._graph) == len(vectors)
    assert reopened.related(cues, exclude={"s0"}) == found


def test_numbers_get_no_meaning_and_a_batch_of_only_numbers_is_fine() -> None:
    embedder = ThesaurusEmbedder(dim=16)
    space = WordSpace()
    space.catch_up({"2024": "2024"}, embedder.embed)  # the first batch: numbers only
    space.catch_up({"2024": "2024", "17": "17"}, embedder.embed)  # numbers only, nothing embedded
    space.catch_up({"2024": "2024", "17": "17", "violin": "violin"}, embedder.embed)
    assert space.stems == ["2024", "17", "violin"] and embedder.calls == [1, 1]
    (cue,) = space.vectors(["violin"], embedder.embed)
    assert space.related([cue], exclude=set()) == {"violin": pytest.approx(1.0, abs=1e-3)}


def test_only_words_memory_does_not_hold_cue_related_words() -> None:
    with Memory(":memory:", embedder=ThesaurusEmbedder()) as mem:
        mem.remember_many(
            [
                {"text": "Lessons on the cello every Monday", "session": "a"},
                {"text": "She bought a violin in Vienna", "session": "b"},
            ]
        )
        held = mem.recall("cello lessons", k=2)  # "cello" is stored: matched as it is, not blurred
        missing = mem.recall("which instruments", k=2)  # "instruments" is not: it cues both
    assert not any("related_words_rank" in hit.components for hit in held)
    assert sum("related_words_rank" in hit.components for hit in missing) == 2
