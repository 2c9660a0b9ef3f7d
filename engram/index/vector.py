"""Dense vector search over one namespace: exact (the oracle) and ANN (usearch HNSW).

Vectors are unit length, so the score is cosine similarity (inner product) in both.
``VectorIndex`` keeps the exact matrix always (it also serves filtered queries) and adds an
HNSW graph once the namespace grows past ``ann_threshold``; the ANN path is tested against
the exact one for recall.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from engram.config import ANN_THRESHOLD
from engram.stores.base import Filter, VectorBatch

__all__ = ["VectorIndex", "exact_search", "exact_search_scores", "filter_rows"]


def exact_search(matrix: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions and cosine scores of the ``k`` rows most similar to ``query``, best first."""
    if len(matrix) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    return exact_search_scores(matrix @ query, k)


def exact_search_scores(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and values of the ``k`` highest ``scores``, best first (ties by position)."""
    if len(scores) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.lexsort((top, -scores[top]))]  # by score, ties by position: deterministic
    return top.astype(np.int64), scores[top]


class VectorIndex:
    """Growable exact index with an optional HNSW graph above a size threshold."""

    def __init__(self, dim: int, *, ann_threshold: int = ANN_THRESHOLD, ann_path: Path | None = None) -> None:
        self.dim = dim
        self.ann_threshold = ann_threshold
        self.ann_path = ann_path  # where the HNSW graph is saved between runs (None: never saved)
        self._saved_rows = 0
        self._capacity = 0
        self._size = 0
        self._matrix = np.zeros((0, dim), dtype=np.float32)
        self.seqs = np.zeros(0, dtype=np.int64)
        self.occurred = np.zeros(0, dtype=np.float64)
        self.recorded = np.zeros(0, dtype=np.float64)
        self.sessions: list[str | None] = []
        self._ann: Any = None  # usearch.index.Index keyed by row position, once built

    def __len__(self) -> int:
        return self._size

    @property
    def last_seq(self) -> int:
        return int(self.seqs[self._size - 1]) if self._size else 0

    @property
    def matrix(self) -> np.ndarray:
        return self._matrix[: self._size]

    def add(self, batch: VectorBatch) -> None:
        """Append vectors (seqs must be increasing and above ``last_seq``)."""
        n = len(batch.seqs)
        if not n:
            return
        self._grow(self._size + n)
        rows = slice(self._size, self._size + n)
        self._matrix[rows] = batch.vectors
        self.seqs[rows] = batch.seqs
        self.occurred[rows] = batch.occurred
        self.recorded[rows] = batch.recorded if len(batch.recorded) == n else np.nan
        self.sessions.extend(batch.sessions)
        start = self._size
        self._size += n
        if self._ann is not None:
            self._ann.add(np.arange(start, self._size), batch.vectors)
        elif self._size >= self.ann_threshold:
            self._build_ann()

    def _grow(self, needed: int) -> None:
        if needed <= self._capacity:
            return
        capacity = max(needed, int(self._capacity * 1.5), 1024)
        matrix = np.zeros((capacity, self.dim), dtype=np.float32)
        matrix[: self._size] = self._matrix[: self._size]
        seqs = np.zeros(capacity, dtype=np.int64)
        seqs[: self._size] = self.seqs[: self._size]
        occurred = np.zeros(capacity, dtype=np.float64)
        occurred[: self._size] = self.occurred[: self._size]
        recorded = np.zeros(capacity, dtype=np.float64)
        recorded[: self._size] = self.recorded[: self._size]
        self._matrix, self.seqs, self.occurred, self.recorded = matrix, seqs, occurred, recorded
        self._capacity = capacity

    def _build_ann(self) -> None:
        """Restore the saved graph if it indexes a prefix of these rows, else build it; add the rest."""
        start = self._restore()
        if start == 0:
            self._ann = self._new_ann()
        if start < self._size:
            self._ann.add(np.arange(start, self._size), self.matrix[start:])
        if start == 0:
            self.save()

    def _new_ann(self) -> Any:
        from usearch.index import Index

        # f16 storage and expansion_add 64: 14 s instead of 41 s to build 100k × 384 on two
        # cores at the same recall@10 against exact search (0.998, measured).
        return Index(ndim=self.dim, metric="ip", dtype="f16", connectivity=16, expansion_add=64, expansion_search=128)

    def _restore(self) -> int:
        """Load the saved graph; return how many rows it covers (0 if absent, stale or damaged)."""
        if self.ann_path is None or not self.ann_path.exists():
            return 0
        try:
            meta = json.loads(self.ann_path.with_suffix(".json").read_text())
            rows, last_seq = int(meta["rows"]), int(meta["last_seq"])
            if meta.get("dim") != self.dim or not 0 < rows <= self._size or int(self.seqs[rows - 1]) != last_seq:
                return 0
            graph = self._new_ann()
            graph.load(str(self.ann_path))
        except (OSError, ValueError, KeyError, RuntimeError):
            return 0  # rebuilt from the store, the source of truth
        if len(graph) != rows:
            return 0
        self._ann, self._saved_rows = graph, rows
        return rows

    def save(self) -> None:
        """Write the HNSW graph beside the store (atomically) if it grew since the last save."""
        if self.ann_path is None or self._ann is None or len(self._ann) <= self._saved_rows:
            return
        self.ann_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.ann_path.with_suffix(".tmp")
        self._ann.save(str(tmp))
        os.replace(tmp, self.ann_path)
        rows = len(self._ann)
        meta = {"rows": rows, "last_seq": int(self.seqs[rows - 1]), "dim": self.dim}
        tmp_meta = self.ann_path.with_suffix(".json.tmp")
        tmp_meta.write_text(json.dumps(meta))
        os.replace(tmp_meta, self.ann_path.with_suffix(".json"))
        self._saved_rows = rows

    def search(self, query: np.ndarray, k: int, allow: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-k (seq, cosine), optionally only among rows where ``allow`` is true."""
        if allow is not None:
            allow = allow[: self._size]
            positions = np.flatnonzero(allow)
            if len(positions) > self._size // 8:  # most rows allowed: score them all, mask the rest
                scores_all = self.matrix @ query
                scores_all[~allow] = -np.inf
                top, scores = exact_search_scores(scores_all, min(k, len(positions)))
            else:  # few rows: gather them (copies len(positions) vectors)
                top, scores = exact_search(self.matrix[positions], query, k)
                top = positions[top]
        elif self._ann is not None and k < self._size:
            top, scores = self._search_ann(query, k)
        else:
            top, scores = exact_search(self.matrix, query, k)
        return [(int(self.seqs[p]), float(s)) for p, s in zip(top, scores, strict=True)]

    def _search_ann(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        found = self._ann.search(query, k)
        positions = np.asarray(found.keys, dtype=np.int64)
        return positions, 1.0 - np.asarray(found.distances, dtype=np.float32)  # ip distance = 1 - cosine


def filter_rows(where: Filter, vectors: VectorIndex) -> np.ndarray:
    """Rows of the index that pass ``where``."""
    n = len(vectors)
    occurred, recorded = vectors.occurred[:n], vectors.recorded[:n]
    allow = np.ones(n, dtype=bool)
    if where.session is not None:
        allow &= np.array([s == where.session for s in vectors.sessions], dtype=bool)
    for bound, times, lower in (
        (where.since, occurred, True),
        (where.until, occurred, False),
        (where.recorded_since, recorded, True),
        (where.recorded_until, recorded, False),
    ):
        if bound is not None:
            allow &= (times >= bound.timestamp()) if lower else (times < bound.timestamp())
    return allow
