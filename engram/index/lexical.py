"""Lexical matching: query terms and an in-process BM25 index over one namespace.

SQLite keeps the durable lexical index (FTS5, Porter stemmer). Scoring with FTS5's
``bm25()`` visits every matching row: measured at 24 ms p50 for a 3-term query over 100k
chat turns, more than the whole recall budget. ``LexicalIndex`` is the fast path: posting
arrays per Porter stem, scored with numpy (Okapi BM25, k1 = 1.2, b = 0.75, FTS5's idf), built
lazily from the store's rows and caught up by seq like the vector index. FTS5 stays the
oracle it is tested against (``tests/test_lexical_index.py``), and the in-memory store uses
this same class, so a lexical score means the same thing in every backend.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["LexicalIndex", "STOPWORDS", "query_terms", "stems", "tokens"]

K1 = 1.2
B = 0.75
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Function words that match almost every chat turn; dropping them from queries keeps BM25
# from scanning most of the index and does not change which turns are relevant.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves ever also s t d ll m re ve""".split()
)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits), as FTS5's unicode61 tokenizer splits them."""
    return _WORD.findall(text.lower())


def query_terms(text: str) -> list[str]:
    """Distinct content words of a query, in order; all words if every one is a stopword."""
    words = tokens(text)
    content = [w for w in words if w not in STOPWORDS]
    return list(dict.fromkeys(content or words))


_stemmer = None


def stems(words: Sequence[str]) -> list[str]:
    """Porter stems (the algorithm FTS5's ``porter`` tokenizer uses), via PyStemmer."""
    global _stemmer
    if _stemmer is None:
        import Stemmer

        _stemmer = Stemmer.Stemmer("porter")
    return _stemmer.stemWords(list(words))


class LexicalIndex:
    """Growable BM25 index; documents are addressed by row position (0, 1, 2 …)."""

    def __init__(self, *, surface: bool = True) -> None:
        """``surface``: keep each stem's first word form (``self.surface``); an index of the same
        words read differently (the in-context one) need not keep them twice."""
        self._postings: dict[str, tuple[array, array]] = {}
        self._lengths = array("f")
        self._total = 0.0
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.surface: dict[str, str] = {}  # each stem -> the first word seen with it (in insertion order)
        self._keep_surface = surface

    def __len__(self) -> int:
        return len(self._lengths)

    def add(self, texts: Sequence[str]) -> None:
        """Append documents; the first gets position ``len(self)``."""
        for text in texts:
            row = len(self._lengths)
            words = tokens(text)
            content = [w for w in words if w not in STOPWORDS]
            stemmed = stems(content)
            if self._keep_surface:
                for word, stem in zip(content, stemmed, strict=True):
                    self.surface.setdefault(stem, word)
            counts = Counter(stemmed)
            for term, n in counts.items():
                rows, tfs = self._postings.setdefault(term, (array("i"), array("f")))
                rows.append(row)
                tfs.append(n)
                self._cache.pop(term, None)
            self._lengths.append(len(words))
            self._total += len(words)

    def _arrays(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        if term not in self._postings:
            return None
        if term not in self._cache:
            rows, tfs = self._postings[term]
            self._cache[term] = (
                np.frombuffer(rows, dtype=np.int32).copy(),
                np.frombuffer(tfs, dtype=np.float32).copy(),
            )
        return self._cache[term]

    def search(self, terms: Sequence[str], k: int, allow: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-k (position, BM25) for documents matching any term, best first."""
        return self.search_stems(dict.fromkeys(stems(terms), 1.0), k, allow)

    def search_stems(
        self, weighted: Mapping[str, float], k: int, allow: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (position, score) where each stem adds its BM25 term score times its weight."""
        n_docs = len(self._lengths)
        if not n_docs or not weighted:
            return []
        lengths = np.frombuffer(self._lengths, dtype=np.float32)
        norm = K1 * (1 - B + B * lengths / max(self._total / n_docs, 1e-9))
        scores = np.zeros(n_docs, dtype=np.float32)
        for term, weight in weighted.items():
            found = self._arrays(term)
            if found is None:
                continue
            rows, tfs = found
            idf = weight * max(math.log((n_docs - len(rows) + 0.5) / (len(rows) + 0.5)), 1e-6)  # FTS5's idf
            scores[rows] += idf * tfs * (K1 + 1) / (tfs + norm[rows])
        if allow is not None:
            scores[~allow[:n_docs]] = 0.0
        return _top(scores, k)

    def search_groups(self, terms: Sequence[str], groups: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top-k (group, BM25) where each group is scored as one document: the concatenation of
        its rows. ``groups[row]`` is the row's group (0, 1, 2 …; -1 leaves the row out).

        The same BM25 as indexing the concatenated documents, computed from the row postings
        (summed term frequencies and lengths), so groups can change without re-indexing.
        """
        n_rows = len(self._lengths)
        groups = np.asarray(groups[:n_rows], dtype=np.int64)
        inside = groups >= 0
        n_groups = int(groups.max()) + 1 if n_rows and inside.any() else 0
        if not n_groups or not terms:
            return []
        row_lengths = np.frombuffer(self._lengths, dtype=np.float32)
        lengths = np.bincount(groups[inside], weights=row_lengths[inside], minlength=n_groups)
        norm = K1 * (1 - B + B * lengths / max(float(lengths.mean()), 1e-9))
        scores = np.zeros(n_groups, dtype=np.float64)
        for term in dict.fromkeys(stems(terms)):
            found = self._arrays(term)
            if found is None:
                continue
            rows, tfs = found
            keep = inside[rows]
            tf = np.bincount(groups[rows[keep]], weights=tfs[keep], minlength=n_groups)
            df = int(np.count_nonzero(tf))
            idf = max(math.log((n_groups - df + 0.5) / (df + 0.5)), 1e-6)
            scores += idf * tf * (K1 + 1) / (tf + norm)
        return _top(scores, k)


def _top(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Positions and scores of the ``k`` best positive scores, best first (ties by position)."""
    matched = np.flatnonzero(scores > 0)
    if len(matched) > k:
        matched = matched[np.argpartition(-scores[matched], k - 1)[:k]]
    order = matched[np.lexsort((matched, -scores[matched]))]
    return [(int(p), float(scores[p])) for p in order]
