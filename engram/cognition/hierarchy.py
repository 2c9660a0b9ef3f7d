"""Hierarchical recall (HCAM, Lampinen et al., 2021): find the right episode, then the event in it.

Episodes are ranked twice — by the cosine of the query to their centroid, and by BM25 over
each episode taken as one document (``LexicalIndex.search_groups``) — and each episode's
evidence is the reciprocal-rank sum of its two ranks. Every candidate event then gains
``weight`` × its episode's evidence, and the event nearest the query inside each of the top
``REPRESENTATIVES`` episodes joins the candidates if it was not among them, so an episode
that is right as a whole is represented even when none of its events ranked high alone.

Measured, recall@10 on LoCoMo dev / session recall_all@5 on LongMemEval_S dev, the rest of
the pipeline on: weight 0: 0.724 / 0.913; 0.25: 0.731 / –; 0.5: 0.731 / 0.909; 1: 0.724 /
0.918; 2: 0.704 / 0.909. Episode evidence helps LoCoMo's multi-hop and open-domain questions
(0.431 → 0.459, 0.335 → 0.409 at 0.5) but floods the top ranks with one session's turns when
strong, while LongMemEval, scored by session, gains from it; 0.5 is the default. Giving
the evidence only to the best event of each episode keeps LongMemEval (0.918 at weight 1)
but drops LoCoMo to 0.60.

Shape legend:
    n  events of the namespace (index rows);  m  episodes;  d  embedding dimension
    centroids [m, d];  episode_of_row [n] (episode position, -1 for none);  bonus [m]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engram.config import RRF_K

__all__ = ["HIERARCHY_WEIGHT", "REPRESENTATIVES", "add_episode_evidence", "episode_evidence"]

HIERARCHY_WEIGHT = 0.5
REPRESENTATIVES = 10

Fused = list[tuple[int, float, dict[str, float]]]


def episode_evidence(dense: Sequence[int], lexical: Sequence[int], m: int, *, rrf_k: int = RRF_K) -> np.ndarray:
    """Per-episode evidence [m]: Σ 1 / (rrf_k + rank) over the two episode rankings (positions, best first)."""
    bonus = np.zeros(m, dtype=np.float64)
    for ranking in (dense, lexical):
        positions = np.asarray(ranking, dtype=np.int64)
        np.add.at(bonus, positions, 1.0 / (rrf_k + np.arange(1, len(positions) + 1)))
    return bonus


def add_episode_evidence(
    fused: Fused,
    bonus: np.ndarray,
    episode_of: dict[int, int],
    representatives: Sequence[tuple[int, int]],
    *,
    weight: float = HIERARCHY_WEIGHT,
) -> Fused:
    """Add ``weight × bonus[episode]`` to each candidate; add the ``representatives``
    ((seq, episode) of the best event of each top episode) that are not candidates yet.

    ``episode_of`` maps the seq of every candidate and representative to its episode (-1: none).
    """
    out: dict[int, tuple[float, dict[str, float]]] = {}
    for seq, score, parts in fused:
        episode = episode_of.get(seq, -1)
        extra = weight * float(bonus[episode]) if episode >= 0 else 0.0
        out[seq] = (score + extra, {**parts, "episode": extra} if extra else parts)
    for seq, episode in representatives:
        if seq not in out:
            out[seq] = (weight * float(bonus[episode]), {"episode": weight * float(bonus[episode])})
    order = sorted(out, key=lambda s: (-out[s][0], s))
    return [(s, out[s][0], out[s][1]) for s in order]
