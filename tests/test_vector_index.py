"""The ANN path agrees with the exact oracle; incremental adds equal a one-shot build."""

from __future__ import annotations

import numpy as np

from engram.index.vector import VectorIndex, exact_search
from engram.stores.base import VectorBatch


def batch(vectors: np.ndarray, start: int = 1) -> VectorBatch:
    n = len(vectors)
    return VectorBatch(
        seqs=np.arange(start, start + n, dtype=np.int64),
        vectors=vectors,
        occurred=np.arange(n, dtype=np.float64),
        sessions=[f"s{i % 3}" for i in range(n)],
    )


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    rows = centres[rng.integers(0, 50, n)] + 0.5 * rng.normal(size=(n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_exact_search_orders_by_cosine() -> None:
    matrix = np.eye(4, dtype=np.float32)
    query = np.array([0.1, 0.9, 0.3, 0.0], dtype=np.float32)
    top, scores = exact_search(matrix, query, 3)
    assert list(top) == [1, 2, 0]
    assert np.allclose(scores, [0.9, 0.3, 0.1])


def test_ann_top_k_matches_exact_at_measured_recall() -> None:
    vectors = clustered(5000)
    ann = VectorIndex(32, ann_threshold=1000)
    ann.add(batch(vectors))
    exact = VectorIndex(32, ann_threshold=10**9)
    exact.add(batch(vectors))
    queries = clustered(200, seed=1)
    overlap = []
    for q in queries:
        truth = {s for s, _ in exact.search(q, 10)}
        found = {s for s, _ in ann.search(q, 10)}
        overlap.append(len(truth & found) / 10)
    assert np.mean(overlap) >= 0.95
    s, score = ann.search(queries[0], 1)[0]
    assert np.isclose(score, float(vectors[s - 1] @ queries[0]), atol=1e-4)


def test_incremental_adds_equal_one_shot_build() -> None:
    vectors = clustered(3000)
    one_shot = VectorIndex(32, ann_threshold=10**9)
    one_shot.add(batch(vectors))
    chunked = VectorIndex(32, ann_threshold=10**9)
    for start in range(0, 3000, 700):
        chunked.add(batch(vectors[start : start + 700], start=start + 1))
    q = clustered(1, seed=5)[0]
    assert one_shot.search(q, 20) == chunked.search(q, 20)
    assert chunked.last_seq == 3000


def test_filtered_search_only_returns_allowed_rows() -> None:
    vectors = clustered(2000)
    index = VectorIndex(32, ann_threshold=500)
    index.add(batch(vectors))
    allow = np.array([s == "s1" for s in index.sessions])
    hits = index.search(vectors[0], 50, allow)
    assert len(hits) == 50 and all((s - 1) % 3 == 1 for s, _ in hits)


def test_saved_graph_is_restored_and_extended(tmp_path) -> None:
    path = tmp_path / "ann" / "ns.usearch"
    vectors = clustered(3000)
    first = VectorIndex(32, ann_threshold=1000, ann_path=path)
    first.add(batch(vectors[:2000]))
    assert path.exists() and path.with_suffix(".json").exists()
    saved_at = path.stat().st_mtime_ns
    again = VectorIndex(32, ann_threshold=1000, ann_path=path)
    again.add(batch(vectors))  # 2,000 rows come from the file, 1,000 are added
    assert path.stat().st_mtime_ns == saved_at
    fresh = VectorIndex(32, ann_threshold=1000)
    fresh.add(batch(vectors))
    queries = clustered(50, seed=3)
    agree = np.mean(
        [len({s for s, _ in again.search(q, 10)} & {s for s, _ in fresh.search(q, 10)}) / 10 for q in queries]
    )
    assert agree >= 0.95
    again.save()
    assert path.stat().st_mtime_ns != saved_at


def test_stale_or_damaged_graph_is_rebuilt(tmp_path) -> None:
    path = tmp_path / "ns.usearch"
    vectors = clustered(2000)
    VectorIndex(32, ann_threshold=1000, ann_path=path).add(batch(vectors))
    other = VectorIndex(32, ann_threshold=1000, ann_path=path)
    other.add(batch(clustered(2000, seed=9), start=5000))  # different seqs: the file does not apply
    assert {s for s, _ in other.search(clustered(1, seed=9)[0], 5)} <= set(range(5000, 7000))
    VectorIndex(32, ann_threshold=1000, ann_path=path).add(batch(vectors))  # the file matches again
    path.write_bytes(b"garbage" * 100)
    damaged = VectorIndex(32, ann_threshold=1000, ann_path=path)
    damaged.add(batch(vectors))
    assert len(damaged.search(vectors[0], 5)) == 5
