"""Retrieval metrics for the benchmarks, as pure functions over ranked ids.

The definitions follow the upstream benchmark code exactly, quirks included:

- LoCoMo (``task_eval/evaluation.py``, ``recall_acc``): turn-level recall@k is
  |evidence ∩ top-k| / |evidence|, and 1.0 when the evidence list is empty.
- LongMemEval (``src/retrieval/eval_utils.py``): recall_any@k, recall_all@k and NDCG@k with
  binary relevance. Its DCG discounts rank ``r`` (1-based) by ``log2(r)`` from rank 2 on and
  leaves rank 1 undiscounted, so ranks 1 and 2 weigh the same; the ideal DCG is taken over
  every relevant item in the corpus. ``turn2session_scores`` widens k until the top
  ``effective_k`` turns cover k distinct sessions and then scores at ``effective_k``
  (``evaluate_retrieval_turn2session``).

Vocabulary: a *ranking* is a sequence of ids, best first (duplicates allowed: two turns of
one session share its id); *gold* is the set of relevant ids; ``n_relevant`` is how many
items of the whole corpus are relevant, which NDCG's ideal ranking needs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence

from engram.errors import InvalidInput

__all__ = [
    "average",
    "dcg",
    "evidence_recall",
    "ndcg",
    "recall_all",
    "recall_any",
    "session_scores",
    "turn2session_scores",
    "widened_k",
]


def _check_k(k: int) -> None:
    if k < 1:
        raise InvalidInput(f"k must be at least 1, got {k}")


def evidence_recall(evidence: Collection[str], ranking: Sequence[str], k: int) -> float:
    """LoCoMo turn-level recall@k: the fraction of evidence ids among the top k.

    Returns 1.0 for empty evidence, as upstream does (the runners skip such questions).
    """
    _check_k(k)
    if not evidence:
        return 1.0
    top = set(ranking[:k])
    return sum(1 for item in set(evidence) if item in top) / len(set(evidence))


def recall_any(gold: Collection[str], ranking: Sequence[str], k: int) -> float:
    """1.0 if any gold id is among the top k, else 0.0."""
    _check_k(k)
    top = set(ranking[:k])
    return float(any(item in top for item in gold))


def recall_all(gold: Collection[str], ranking: Sequence[str], k: int) -> float:
    """1.0 if every gold id is among the top k, else 0.0 (1.0 for empty gold, as upstream)."""
    _check_k(k)
    top = set(ranking[:k])
    return float(all(item in top for item in gold))


def dcg(relevances: Sequence[float], k: int) -> float:
    """Upstream DCG@k: ``rel[0] + sum(rel[i] / log2(i + 1) for i >= 1)`` (i zero-based)."""
    head = list(relevances[:k])
    if not head:
        return 0.0
    return head[0] + sum(rel / math.log2(i + 1) for i, rel in enumerate(head) if i >= 1)


def ndcg(gold: Collection[str], ranking: Sequence[str], k: int, *, n_relevant: int) -> float:
    """NDCG@k with binary relevance; 0.0 when the corpus holds nothing relevant.

    Args:
        gold: the relevant ids.
        ranking: retrieved ids, best first; an id counts each time it appears.
        k: the cut-off.
        n_relevant: relevant items in the whole corpus (sets the ideal ranking).
    """
    _check_k(k)
    ideal = dcg([1.0] * min(n_relevant, k), k)
    if ideal == 0.0:
        return 0.0
    return dcg([1.0 if item in gold else 0.0 for item in ranking[:k]], k) / ideal


def session_scores(gold: Collection[str], ranking: Sequence[str], k: int, *, n_relevant: int) -> dict[str, float]:
    """Upstream ``evaluate_retrieval``: recall_any, recall_all and NDCG at k."""
    return {
        "recall_any": recall_any(gold, ranking, k),
        "recall_all": recall_all(gold, ranking, k),
        "ndcg": ndcg(gold, ranking, k, n_relevant=n_relevant),
    }


def widened_k(ranking: Sequence[str], k: int) -> int:
    """The smallest cut-off >= k whose prefix holds k distinct ids (or the whole ranking).

    Mirrors upstream, which stops one past the end when the corpus has fewer than k ids.
    """
    _check_k(k)
    seen = set(ranking[:k])
    effective = k
    while effective <= len(ranking) and len(seen) < k:
        if effective < len(ranking):
            seen.add(ranking[effective])
        effective += 1
    return effective


def turn2session_scores(
    gold: Collection[str], session_ranking: Sequence[str], k: int, *, n_relevant: int
) -> dict[str, float]:
    """Upstream ``evaluate_retrieval_turn2session``: session metrics from ranked turns.

    Args:
        gold: the gold session ids.
        session_ranking: the session key of each retrieved turn, best first.
        k: the number of distinct sessions to cover.
        n_relevant: turns in the corpus whose key is gold (NDCG's ideal, counted in turns).
    """
    return session_scores(gold, session_ranking, widened_k(session_ranking, k), n_relevant=n_relevant)


def average(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """The mean of each key over rows that have it; an empty input gives an empty dict."""
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        for key, value in row.items():
            sums[key] += value
            counts[key] += 1
    return {key: sums[key] / counts[key] for key in sums}
