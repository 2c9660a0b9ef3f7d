"""Two plain baselines the benchmarks run beside Engram: BM25 only and dense only.

Both index a list of documents once and rank them for a query; ``rank`` returns document
positions, best first. They stand for what a retrieval-augmented agent gets with no memory
engine at all:

- ``BM25Ranker``: the ``bm25s`` library (Lucene-style BM25, k1=1.5, b=0.75), its default
  tokenizer (lower-cased ``\\w\\w+`` words) with English stopwords removed and words stemmed
  by the English Snowball stemmer (``PyStemmer``), the setup ``bm25s`` documents. This
  reproduces the reference figures exactly (LoCoMo dev recall@10 0.559, LongMemEval_S dev
  BM25 over sessions recall_all@5 0.861); without the stemmer they drop by 0.03-0.06.
- ``DenseRanker``: exact brute-force cosine similarity over the embedder's unit vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from engram.errors import InvalidInput
from engram.perception.embedders import Embedder

__all__ = ["BM25Ranker", "DenseRanker", "Ranker"]

STOPWORDS = "en"


class Ranker(Protocol):
    """Ranks a fixed list of documents for a query."""

    def rank(self, query: str, k: int) -> list[int]:
        """Positions of the top ``k`` documents (fewer if the corpus is smaller), best first."""
        ...


def _check_corpus(texts: Sequence[str]) -> None:
    if not texts:
        raise InvalidInput("a baseline needs at least one document")


class BM25Ranker:
    """BM25 over the documents: ``bm25s`` tokenizer, English stopwords, Snowball stemming."""

    def __init__(self, texts: Sequence[str]) -> None:
        _check_corpus(texts)
        self._size = len(texts)
        self._index = _bm25s().BM25()
        self._index.index(_tokenize(texts, return_ids=True), show_progress=False)

    def rank(self, query: str, k: int) -> list[int]:
        """Positions of the top ``k`` documents; documents scoring 0 come last in any order."""
        # Plain token strings (not ids) so the index maps them through its own vocabulary.
        documents, _scores = self._index.retrieve(
            _tokenize([query], return_ids=False), k=min(k, self._size), show_progress=False
        )
        return [int(position) for position in documents[0]]


def _bm25s() -> Any:
    try:
        import bm25s
    except ImportError as exc:
        raise ImportError("the BM25 baseline needs 'bm25s' and 'PyStemmer' (pip install bm25s PyStemmer)") from exc
    return bm25s


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[list[str]], list[str]]:
    try:
        import Stemmer
    except ImportError as exc:
        raise ImportError("the BM25 baseline needs 'PyStemmer' (pip install PyStemmer)") from exc
    return Stemmer.Stemmer("english").stemWords


def _tokenize(texts: Sequence[str], *, return_ids: bool) -> Any:
    return _bm25s().tokenize(
        list(texts), stopwords=STOPWORDS, stemmer=_stemmer(), return_ids=return_ids, show_progress=False
    )


class DenseRanker:
    """Exact cosine similarity between the query vector and every document vector.

    Shape legend: N documents, D embedding dimensions.
    """

    def __init__(self, texts: Sequence[str], embedder: Embedder) -> None:
        _check_corpus(texts)
        self._embedder = embedder
        self._vectors = embedder.embed(list(texts))  # [N, D], rows L2-normalised

    def rank(self, query: str, k: int) -> list[int]:
        """Positions of the ``k`` most similar documents; ties keep corpus order."""
        scores = self._vectors @ self._embedder.embed([query])[0]  # [N]
        order = np.argsort(-scores, kind="stable")
        return [int(position) for position in order[:k]]
