"""Temporal contiguity: recalling an event brings back its neighbours (EM-LLM's second stage).

In human free recall the next item recalled tends to be a neighbour of the last one, more
often the one that followed it than the one before it (Kahana's lag-CRP). Here each of the
top hits passes a share of its score to the events just after (``FORWARD``) and just before
(``BACKWARD``) it in the same episode (recall passes episode labels; any labels that mark
which events belong together work); a neighbour keeps the larger of its own score and the
share it receives.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["BACKWARD", "FORWARD", "add_neighbours"]

FORWARD = 0.5
BACKWARD = 0.35
SEEDS = 10  # top hits whose neighbours are considered


def add_neighbours(
    fused: list[tuple[int, float, dict[str, float]]],
    seqs: np.ndarray,
    groups: Sequence[object] | np.ndarray,
    *,
    seeds: int = SEEDS,
    forward: float = FORWARD,
    backward: float = BACKWARD,
) -> list[tuple[int, float, dict[str, float]]]:
    """Re-rank ``fused`` (seq, score, components) with the neighbours of its top ``seeds`` hits.

    ``seqs`` (ascending) and ``groups`` (an episode or session label per event) describe the
    namespace's events in order; events are neighbours when their rows are adjacent and they
    share a label.
    """
    scores = {seq: (score, parts) for seq, score, parts in fused}
    for seq, score, _ in fused[:seeds]:
        row = int(np.searchsorted(seqs, seq))
        for offset, share in ((1, forward), (-1, backward)):
            other = row + offset
            if not 0 <= other < len(seqs) or groups[other] != groups[row]:
                continue
            neighbour = int(seqs[other])
            current, parts = scores.get(neighbour, (0.0, {}))
            if share * score > current:
                scores[neighbour] = (share * score, {**parts, "contiguity": float(offset), "contiguity_of": float(seq)})
    order = sorted(scores, key=lambda s: (-scores[s][0], s))
    return [(s, scores[s][0], scores[s][1]) for s in order]
