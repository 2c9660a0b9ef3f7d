"""Fusion of ranked candidate lists into one ranking, with the evidence kept per hit.

Reciprocal-rank fusion (Cormack et al., 2009): score = Σ_r w_r / (RRF_K + rank_r). It needs
no score calibration between retrievers (cosine and BM25 live on different scales), which is
why it was chosen; the measured comparison is in the README's benchmark section.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from engram.config import RRF_K

__all__ = ["Ranked", "fuse"]

Ranked = Sequence[tuple[int, float]]  # (seq, raw score), best first


def fuse(
    rankings: Mapping[str, Ranked], weights: Mapping[str, float], *, rrf_k: int = RRF_K
) -> list[tuple[int, float, dict[str, float]]]:
    """Fuse named rankings; return (seq, fused score, components) best first.

    ``components`` holds, for each ranking that found the seq, its raw score under the
    ranking's name and its 1-based rank under ``<name>_rank``.
    """
    fused: dict[int, float] = defaultdict(float)
    parts: dict[int, dict[str, float]] = defaultdict(dict)
    for name, ranked in rankings.items():
        weight = weights.get(name, 1.0)
        for rank, (seq, raw) in enumerate(ranked, start=1):
            fused[seq] += weight / (rrf_k + rank)
            parts[seq][name] = raw
            parts[seq][f"{name}_rank"] = rank
    order = sorted(fused, key=lambda s: (-fused[s], s))
    return [(seq, fused[seq], parts[seq]) for seq in order]
