"""Everything recall needs about one namespace, in process: row-aligned indexes and episodes.

Row ``i`` is the same event in every structure here (dense vectors, BM25 postings, speakers,
time references), in seq order. ``NamespaceIndex.add`` appends a batch read from the store;
``set_episodes`` replaces the episode arrays after segmentation moved on.

Shape legend:
    n  events (rows);  m  episodes;  d  embedding dimension
    centroids [m, d];  episode_of_row [n];  dated [n]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from engram.cognition.association import FactGraph, build_graph
from engram.cognition.cues import has_time_reference, only_asks
from engram.cognition.timecues import parse_time_cue
from engram.core.records import Entity
from engram.index.lexical import LexicalIndex, stems, tokens
from engram.index.strength import NO_EPISODE, StrengthState
from engram.index.vector import VectorIndex
from engram.index.words import WordSpace
from engram.neural.completion import Lexicon, build_lexicon
from engram.stores.base import EpisodeRow, FactRow, VectorBatch

__all__ = ["NamespaceIndex"]


@dataclass(slots=True)
class NamespaceIndex:
    """Dense and lexical indexes of one namespace, its speakers, and its episodes."""

    vectors: VectorIndex
    lexical: LexicalIndex = field(default_factory=LexicalIndex)
    # Each row's text after the text of the event before it in the same session: what an
    # utterance means often depends on the turn it answers ("Yes, twice last year!").
    in_context: LexicalIndex = field(default_factory=lambda: LexicalIndex(surface=False))
    _last: tuple[str | None, str] | None = None  # (session, text) of the last row, for in_context
    speakers: list[str | None] = field(default_factory=list)
    participants: dict[str, None] = field(default_factory=dict)  # distinct speakers, in order of appearance
    dated: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # text carries a time reference
    asks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # text only asks a question
    mentioned: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # [n, 2] window the text refers to
    episodes_seen: int = -1  # the segmentation state the episode arrays reflect
    episodes: tuple[EpisodeRow, ...] = ()
    first_seqs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    centroids: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    episode_of_row: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    facts_seen: int = -1  # the consolidation checkpoint the fact graph reflects
    graph: FactGraph | None = None
    vocabulary: dict[str, int] = field(default_factory=dict)  # every word stem, for pattern completion
    word_bags: list[np.ndarray] = field(default_factory=list)  # [n] stem ids of each row, function words kept
    first_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # [n] row of the first copy
    _copies: dict[str, int] = field(default_factory=dict)  # normalised (speaker, text) -> its first row
    _lexicon: Lexicon | None = None  # built from word_bags on first use after growth
    strength: StrengthState = field(default_factory=StrengthState)  # row-aligned strength of events
    words: WordSpace = field(default_factory=WordSpace)  # the vocabulary's embeddings, for related words

    @classmethod
    def new(cls, dim: int, ann_path: Path | None) -> NamespaceIndex:
        """An empty index; with ``ann_path``, its HNSW graph and word vectors are saved there."""
        return cls(VectorIndex(dim, ann_path=ann_path), words=WordSpace(ann_path))

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def seqs(self) -> np.ndarray:
        return self.vectors.seqs[: len(self.vectors)]

    @property
    def sessions(self) -> list[str | None]:
        return self.vectors.sessions

    def add(self, batch: VectorBatch) -> None:
        """Append a batch of rows (seqs above the last one)."""
        self.vectors.add(batch)
        self.lexical.add(batch.texts)
        self.in_context.add(self._with_previous(batch))
        self.speakers.extend(batch.speakers)
        self.participants.update(dict.fromkeys(s for s in batch.speakers if s))
        dated = np.array([has_time_reference(t) for t in batch.texts], dtype=bool)
        self.dated = np.concatenate([self.dated, dated])
        asks = [
            only_asks(_without_speaker(text, speaker))
            for text, speaker in zip(batch.texts, batch.speakers, strict=True)
        ]
        self.asks = np.concatenate([self.asks, np.array(asks, dtype=bool)])
        self.mentioned = np.concatenate([self.mentioned, _mentioned(batch, dated)])
        self.word_bags.extend(self.features(text, grow=True) for text in batch.texts)
        start = len(self.first_of)
        keys = [" ".join(tokens(text)) for text in batch.texts]  # index_text: the speaker, then the text
        first = [self._copies.setdefault(key, start + i) for i, key in enumerate(keys)]
        self.first_of = np.concatenate([self.first_of, np.array(first, dtype=np.int64)])
        self.strength.add(batch, np.array(first, dtype=np.int64))
        self._lexicon = None
        self._map_rows()

    def _with_previous(self, batch: VectorBatch) -> list[str]:
        """Each text of ``batch`` preceded by the previous row's text when both share a session."""
        out = []
        for session, text in zip(batch.sessions, batch.texts, strict=True):
            before = self._last[1] + " " if self._last and self._last[0] == session else ""
            out.append(before + text)
            self._last = (session, text)
        return out

    def features(self, text: str, *, grow: bool = False) -> np.ndarray:
        """Stem ids of every word of ``text`` (function words too: a fragment of a memory shares
        them with it); unknown stems get new ids when ``grow``, else are left out."""
        ids = []
        for stem in stems(tokens(text)):
            if grow:
                ids.append(self.vocabulary.setdefault(stem, len(self.vocabulary)))
            elif stem in self.vocabulary:
                ids.append(self.vocabulary[stem])
        return np.array(ids, dtype=np.int64)

    def lexicon(self) -> Lexicon:
        """The word-stem view of every row for pattern completion (rebuilt after the index grew)."""
        if self._lexicon is None:
            self._lexicon = build_lexicon(self.word_bags, max(len(self.vocabulary), 1))
        return self._lexicon

    def window_rows(self, since: float, until: float) -> np.ndarray:
        """Rows that happened in [since, until) (unix seconds) or whose text refers to a time
        overlapping it ("yesterday" in an event of 8 May refers to 7 May)."""
        occurred = self.vectors.occurred[: len(self)]
        refers = (self.mentioned[:, 0] < until) & (self.mentioned[:, 1] > since)
        return ((occurred >= since) & (occurred < until)) | refers

    def set_episodes(self, rows: list[EpisodeRow], seen: int) -> None:
        """Replace the episodes (in seq order) with those of segmentation state ``seen``."""
        self.episodes_seen = seen
        self.episodes = tuple(rows)
        self.first_seqs = np.array([r.first_seq for r in rows], dtype=np.int64)
        self.centroids = np.stack([r.centroid for r in rows]) if rows else np.zeros((0, self.vectors.dim), np.float32)
        self._map_rows()

    def set_facts(self, entities: list[Entity], facts: list[FactRow], seen: int) -> None:
        """Replace the fact graph with that of consolidation checkpoint ``seen``."""
        row_of = dict(zip(self.seqs.tolist(), range(len(self)), strict=True))
        self.graph = build_graph(entities, facts, row_of, self.vectors.dim)
        self.facts_seen = seen

    def _map_rows(self) -> None:
        self.episode_of_row = np.searchsorted(self.first_seqs, self.seqs, side="right") - 1
        first_rows = np.searchsorted(self.seqs, self.first_seqs)
        inside = self.episode_of_row >= 0
        position = np.full(len(self), NO_EPISODE, dtype=np.int64)
        position[inside] = np.arange(len(self))[inside] - first_rows[self.episode_of_row[inside]]
        self.strength.set_positions(position)

    def rows_of(self, seqs: list[int]) -> np.ndarray:
        """Row positions of ``seqs`` (which must be indexed)."""
        return np.searchsorted(self.seqs, seqs)

    def episode_rows(self, episode: int) -> slice:
        """The rows of episode ``episode`` (a position in ``episodes``)."""
        row = self.episodes[episode]
        seqs = self.seqs
        return slice(int(np.searchsorted(seqs, row.first_seq)), int(np.searchsorted(seqs, row.last_seq, side="right")))


def _without_speaker(text: str, speaker: str | None) -> str:
    """An index text (``index_text``: the speaker, then the text) without its speaker."""
    return text[len(speaker) + 1 :] if speaker and text.startswith(speaker + " ") else text


def _mentioned(batch: VectorBatch, dated: np.ndarray) -> np.ndarray:
    """[n, 2] unix-second windows that dated texts refer to, read relative to their own event time
    (NaN where a text refers to no resolvable time)."""
    out = np.full((len(dated), 2), np.nan)
    for row in np.flatnonzero(dated).tolist():
        at = datetime.fromtimestamp(float(batch.occurred[row]), timezone.utc)
        cue = parse_time_cue(batch.texts[row], at)
        if cue.since is not None or cue.until is not None:
            out[row] = (cue.since.timestamp() if cue.since else -np.inf, cue.until.timestamp() if cue.until else np.inf)
    return out
