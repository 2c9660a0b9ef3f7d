"""Lexical matching shared by every store: query terms and a reference BM25.

SQLite answers lexical queries with FTS5's ``bm25()``; the in-memory twin uses ``BM25``
below with the same parameters (k1 = 1.2, b = 0.75) and the same query terms, so a score
means the same thing in both: higher is a better lexical match.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

__all__ = ["BM25", "STOPWORDS", "query_terms", "tokens"]

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


def _stem(word: str) -> str:
    """A light English suffix stripper for the in-memory twin (FTS5 uses Porter)."""
    for suffix in ("ingly", "edly", "ing", "ed", "ies", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


class BM25:
    """Incremental Okapi BM25 over documents keyed by integer id."""

    def __init__(self) -> None:
        self._postings: dict[str, dict[int, int]] = defaultdict(dict)
        self._lengths: dict[int, int] = {}
        self._total = 0

    def add(self, doc_id: int, text: str) -> None:
        counts = Counter(_stem(w) for w in tokens(text))
        for term, n in counts.items():
            self._postings[term][doc_id] = n
        length = sum(counts.values())
        self._lengths[doc_id] = length
        self._total += length

    def remove(self, doc_id: int) -> None:
        length = self._lengths.pop(doc_id, None)
        if length is None:
            return
        self._total -= length
        for term in list(self._postings):
            self._postings[term].pop(doc_id, None)
            if not self._postings[term]:
                del self._postings[term]

    def scores(self, terms: Iterable[str], allowed: set[int] | None = None) -> dict[int, float]:
        """BM25 score of every document matching any term (restricted to ``allowed``)."""
        n_docs = len(self._lengths)
        if not n_docs:
            return {}
        avg = self._total / n_docs or 1.0
        out: dict[int, float] = defaultdict(float)
        for term in {_stem(t) for t in terms}:
            postings = self._postings.get(term, {})
            idf = math.log(1 + (n_docs - len(postings) + 0.5) / (len(postings) + 0.5))
            for doc_id, tf in postings.items():
                if allowed is not None and doc_id not in allowed:
                    continue
                norm = tf + K1 * (1 - B + B * self._lengths[doc_id] / avg)
                out[doc_id] += idf * tf * (K1 + 1) / norm
        return dict(out)
