"""Online event segmentation of a stream of unit vectors by surprise (EM-LLM style).

A boundary candidate is an event whose surprise (from ``engram.neural.predictor``) exceeds
``mean + gamma * std`` of the surprise over the preceding ``window`` events (Fountas et al.,
2025, "Human-like Episodic Memory for Infinite Context LLMs"). Each candidate is refined by
a graph criterion: within ``±refine_radius`` events of it, the split that maximises the
modularity of the two sides of the cosine-similarity graph of the neighbouring events is
taken, and the candidate is dropped when no split reaches ``min_modularity``. A time gap
longer than ``time_gap`` seconds is a boundary by itself, with no refinement; between two
timed events without such a gap, surprise must exceed the stricter ``timed_gamma``. The
segmenter looks ``lookahead`` events ahead before it commits to a boundary.

Shape legend:
    n  number of events;  d  embedding dimension
    vectors [n, d] unit rows;  times [n] seconds (NaN where unknown);  surprise [n]
    similarity [m, m] for the m events around one candidate
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engram.neural.predictor import PredictorState, init_state, surprise

__all__ = ["SegmentationConfig", "Segmenter", "modularity_split", "segment"]

DEFAULT_GAMMA = 1.0
DEFAULT_WINDOW = 32
DEFAULT_MIN_HISTORY = 4
DEFAULT_REFINE_RADIUS = 3
DEFAULT_GRAPH_SPAN = 10
DEFAULT_MIN_EPISODE = 4
DEFAULT_MIN_MODULARITY = 0.0
DEFAULT_TIME_GAP = 30 * 60.0  # seconds: a pause longer than half an hour starts an episode
DEFAULT_TIMED_GAMMA = 3.0  # with clock evidence at hand, a topic shift alone must be rarer


@dataclass(frozen=True)
class SegmentationConfig:
    """Settings of the segmenter; see the module docstring for their roles."""

    gamma: float = DEFAULT_GAMMA
    window: int = DEFAULT_WINDOW
    min_history: int = DEFAULT_MIN_HISTORY
    refine_radius: int = DEFAULT_REFINE_RADIUS
    graph_span: int = DEFAULT_GRAPH_SPAN
    min_episode: int = DEFAULT_MIN_EPISODE
    min_modularity: float = DEFAULT_MIN_MODULARITY
    time_gap: float = DEFAULT_TIME_GAP
    timed_gamma: float = DEFAULT_TIMED_GAMMA
    lr: float = 0.2
    decay: float = 0.01
    context_size: int = 4

    def __post_init__(self) -> None:
        if self.window < 2 or self.min_history < 2 or self.min_history > self.window:
            raise ValueError("need 2 <= min_history <= window")
        if self.refine_radius < 0 or self.graph_span < 1 or self.min_episode < 1:
            raise ValueError("refine_radius must be >= 0, graph_span and min_episode >= 1")
        if self.time_gap <= 0:
            raise ValueError("time_gap must be positive")

    @property
    def lookahead(self) -> int:
        """Events needed after a candidate before its refined position is final."""
        return 2 * self.refine_radius + self.graph_span


def modularity_split(similarity: np.ndarray, splits: range) -> tuple[int, float]:
    """The split ``b`` in ``splits`` maximising the modularity of {[0, b), [b, m)}.

    ``similarity`` [m, m] is symmetric; negative weights and self-loops are dropped.
    Returns (best split, its modularity); (-1, -inf) when ``splits`` is empty.
    """
    adjacency = np.clip(similarity, 0.0, None)
    np.fill_diagonal(adjacency, 0.0)
    degree = adjacency.sum(axis=1)
    total = float(degree.sum())  # = 2m
    best, best_q = -1, -np.inf
    if total <= 0.0:
        return best, best_q
    for b in splits:
        left, right = slice(0, b), slice(b, None)
        q = (adjacency[left, left].sum() + adjacency[right, right].sum()) / total
        q -= (degree[left].sum() / total) ** 2 + (degree[right].sum() / total) ** 2
        if q > best_q:
            best, best_q = b, float(q)
    return best, best_q


@dataclass
class Segmenter:
    """Streaming segmenter: ``push`` events one at a time, ``flush`` at the end.

    Both return the episode starts (event indices) that became final; the first event of
    the stream is always an episode start and is reported by the first ``push``.
    """

    config: SegmentationConfig = field(default_factory=SegmentationConfig)
    _vectors: list[np.ndarray] = field(default_factory=list)
    _times: list[float] = field(default_factory=list)
    _surprise: list[float] = field(default_factory=list)
    _pending: list[int] = field(default_factory=list)
    _last_start: int = 0
    _state: PredictorState | None = None

    def push(self, vector: np.ndarray, time: float | None = None) -> list[int]:
        """Add one event [d] (optionally with a time in seconds); return finalised starts."""
        x = np.asarray(vector, dtype=np.float64)
        if self._state is None:
            self._state = init_state(x.shape[0], context_size=self.config.context_size)
        t = len(self._vectors)
        value, self._state = surprise(self._state, x, lr=self.config.lr, decay=self.config.decay)
        self._vectors.append(x)
        self._times.append(np.nan if time is None else float(time))
        self._surprise.append(value)
        if t == 0:
            return [0]
        if self._time_break(t):
            return self._commit_time_break(t)
        if self._is_candidate(t):
            self._pending.append(t)
        return self._resolve(final=False)

    def flush(self) -> list[int]:
        """Resolve the remaining candidates with whatever look-ahead there is."""
        return self._resolve(final=True)

    def _time_break(self, t: int) -> bool:
        gap = self._times[t] - self._times[t - 1]
        return bool(np.isfinite(gap) and gap > self.config.time_gap)

    def _commit_time_break(self, t: int) -> list[int]:
        starts = self._resolve(final=True, limit=t)  # candidates before the gap see no further
        self._pending.clear()
        self._last_start = t
        return [*starts, t]

    def _is_candidate(self, t: int) -> bool:
        cfg = self.config
        history = np.asarray(self._surprise[max(self._last_start + 1, t - cfg.window) : t])
        if len(history) < cfg.min_history:
            return False
        timed = np.isfinite(self._times[t]) and np.isfinite(self._times[t - 1])
        gamma = cfg.timed_gamma if timed else cfg.gamma
        return self._surprise[t] > history.mean() + gamma * history.std()

    def _resolve(self, *, final: bool, limit: int | None = None) -> list[int]:
        starts: list[int] = []
        end = len(self._vectors) if limit is None else limit
        while self._pending and (final or self._pending[0] + self.config.lookahead < end):
            start = self._refine(self._pending.pop(0), end)
            if start is not None:
                starts.append(start)
                self._last_start = start
        return starts

    def _refine(self, candidate: int, end: int) -> int | None:
        # Splits are scored over twice the radius: when the best one lies beyond the radius,
        # the candidate is an echo of a boundary elsewhere (that boundary has its own turn).
        cfg = self.config
        reach = 2 * cfg.refine_radius
        low = max(candidate - reach, self._last_start + cfg.min_episode)
        high = min(candidate + reach, end - 1)
        if low > high:
            return None
        lo = max(self._last_start, low - cfg.graph_span)
        hi = min(end, high + cfg.graph_span + 1)
        block = np.stack(self._vectors[lo:hi])
        split, q = modularity_split(block @ block.T, range(low - lo, high - lo + 1))
        if split < 0 or q <= cfg.min_modularity or abs(lo + split - candidate) > cfg.refine_radius:
            return None
        return lo + split


def segment(
    vectors: np.ndarray,
    times: np.ndarray | None = None,
    *,
    config: SegmentationConfig | None = None,
) -> list[int]:
    """Episode starts (sorted event indices, beginning with 0) of the stream ``vectors`` [n, d].

    ``times`` [n] are seconds (NaN where unknown) or None.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be 2-d [n, d], got shape {vectors.shape}")
    if times is not None and np.shape(times) != (vectors.shape[0],):
        raise ValueError(f"times must have shape ({vectors.shape[0]},), got {np.shape(times)}")
    segmenter = Segmenter(config or SegmentationConfig())
    starts: list[int] = []
    for i, x in enumerate(vectors):
        starts += segmenter.push(x, None if times is None else float(times[i]))
    return starts + segmenter.flush()
