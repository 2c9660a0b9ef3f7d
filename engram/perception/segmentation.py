"""Online event segmentation of a stream of unit vectors by topic and discourse surprise.

Each event ``t`` gets a row of boundary evidence (the ``FEATURES``), each feature z-scored
against its own values over the preceding ``window`` events (``mean + gamma * std`` as in
EM-LLM, Fountas et al., 2025, applied per feature):

* ``opener`` / ``opener_next``: how much event ``t`` (and its reply ``t + 1``) looks like a
  conversation opening: the projection on ``mean(openers) - mean(neutral)`` of hand-written
  generic prototype utterances (``OPENERS``, ``CLOSERS``, ``NEUTRAL``) embedded once per embedder;
* ``closer_prev`` / ``closer_prev2``: how much events ``t - 1`` and ``t - 2`` look like a farewell;
* ``modularity``: the modularity of splitting the cosine-similarity graph of the events
  ``[t - graph_span, t + graph_span)`` at ``t`` (a graph criterion on neighbouring events);
* ``exchange``: the similarity of ``t`` and ``t + 1`` (a greeting is answered by a greeting);
* ``surprise``: the error of the online delta-rule predictor (``engram.neural.predictor``),
  the value stored with each event.

The boundary score is ``weights . z / ||weights||`` over the features that are available
(without prototypes only the topic features count). Event ``t`` starts an episode when its
score exceeds ``gamma`` (``timed_gamma`` when ``t`` and ``t - 1`` both carry times, as the clock
is then better evidence), is the largest within ``±peak_radius`` events and at least
``min_episode`` events follow the previous start. A time gap longer than ``time_gap`` seconds
or an explicit session break is a start by itself. The segmenter never needs more than
``lookahead`` events beyond the one it decides on, and keeps only that much of the stream.

Shape legend:
    n  number of events;  d  embedding dimension;  f  number of features (``len(FEATURES)``)
    vectors [n, d] unit rows;  times [n] seconds (NaN where unknown);  surprise [n]
    prototypes [2, d] (opener, closer directions);  history [<= window, f] raw feature rows
    similarity [m, m] for the m events around one position
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from engram.neural.predictor import PredictorState, init_state, surprise

__all__ = [
    "FEATURES",
    "SegmentationConfig",
    "Segmenter",
    "discourse_prototypes",
    "modularity_split",
    "new_segmenter",
    "segment",
]

FEATURES = ("opener", "opener_next", "closer_prev", "closer_prev2", "modularity", "exchange", "surprise")
_DISCOURSE = frozenset(FEATURES[:4])
DEFAULT_WEIGHTS = (1.0, 0.5, 1.0, 0.5, 0.5, 0.5, 0.0)  # predictor surprise: measured no gain on LoCoMo
DEFAULT_GAMMA = 1.55
DEFAULT_TIMED_GAMMA = 3.0  # with clock evidence at hand, conversation cues alone must be stronger
DEFAULT_WINDOW = 96
DEFAULT_MIN_HISTORY = 8
DEFAULT_PEAK_RADIUS = 6
DEFAULT_GRAPH_SPAN = 4
DEFAULT_MIN_EPISODE = 8
DEFAULT_TIME_GAP = 30 * 60.0  # seconds: a pause longer than half an hour starts an episode
_FORMAT = 1
_EPS = 1e-9

# Generic conversation openings, farewells and mid-conversation turns, written for Engram (not
# taken from any benchmark). Only the differences of their means are used.
OPENERS = (
    "Hi! How are you doing today?",
    "Hey, long time no see! How have you been?",
    "Hello there, nice to hear from you again.",
    "Good morning! How's everything going?",
    "Hey! It's been a while. What's new with you?",
    "Hi there, I hope you had a good week.",
    "Hey, how's it going? Anything exciting happen lately?",
    "Hello! So good to talk to you again.",
    "Hi, how was your weekend?",
    "Hey, I've got some news to share since we last talked.",
    "Good evening! How did your day go?",
    "Hi! I've been meaning to catch up with you.",
    "Hey friend, what have you been up to recently?",
    "Hello, it's great to hear from you!",
    "Hi again! How did that thing you mentioned last time go?",
    "Hey, nice to see you. Been busy lately?",
    "Hi! Sorry I haven't been in touch, things have been crazy.",
    "Hey there! Guess what happened to me yesterday.",
    "Hello, how are things with you and your family?",
    "Hi, I'm doing well, thanks for asking! How about you?",
)
CLOSERS = (
    "Bye! Talk to you later.",
    "Take care, see you soon!",
    "I have to go now, it was nice chatting.",
    "Okay, I'll let you go. Have a great night!",
    "Goodbye, catch you later.",
    "Thanks for the chat, talk soon!",
    "Anyway, I need to run. Bye for now.",
    "It was great catching up with you. Take care!",
    "Have a good day! Let's talk again soon.",
    "See you later, good luck with everything!",
    "Alright, I'm off to bed. Good night!",
    "Talk to you tomorrow, bye!",
    "I'll keep you posted. Have fun!",
    "Thanks, you too! Enjoy the rest of your day.",
    "Gotta go, my dinner is ready. Bye!",
    "Nice talking to you, stay safe.",
    "Let me know how it goes. Catch you later!",
    "Okay, enjoy your weekend! Bye.",
    "Thanks for listening, it really means a lot. Talk soon.",
    "Cheers, see you next time!",
)
NEUTRAL = (
    "I think that movie was better than the book.",
    "My sister just started a new job at the hospital.",
    "What kind of music do you usually listen to?",
    "That sounds really difficult, how did you handle it?",
    "We went hiking in the mountains and the view was amazing.",
    "I've been trying to cook more vegetables lately.",
    "Do you know a good place to buy a used car?",
    "Yes, I agree, practice really makes a difference.",
    "The kids were so excited about the new puppy.",
    "I'm reading a book about ancient history right now.",
    "Why did you decide to change your major?",
    "It rained all day so we stayed inside and played games.",
    "That's a great idea, you should definitely try it.",
    "My boss asked me to lead the new project.",
    "I usually go running in the park after work.",
    "How much did the tickets cost?",
    "I painted the living room blue last month.",
    "Really? I didn't know you played the guitar.",
    "The traffic downtown was terrible this morning.",
    "I'm thinking about adopting a cat from the shelter.",
)


@dataclass(frozen=True)
class SegmentationConfig:
    """Settings of the segmenter; see the module docstring for their roles."""

    gamma: float = DEFAULT_GAMMA
    timed_gamma: float = DEFAULT_TIMED_GAMMA
    window: int = DEFAULT_WINDOW
    min_history: int = DEFAULT_MIN_HISTORY
    peak_radius: int = DEFAULT_PEAK_RADIUS
    graph_span: int = DEFAULT_GRAPH_SPAN
    min_episode: int = DEFAULT_MIN_EPISODE
    time_gap: float = DEFAULT_TIME_GAP
    weights: tuple[float, ...] = DEFAULT_WEIGHTS
    lr: float = 0.2
    decay: float = 0.01
    context_size: int = 4

    def __post_init__(self) -> None:
        if self.window < 2 or self.min_history < 2 or self.min_history > self.window:
            raise ValueError("need 2 <= min_history <= window")
        if self.peak_radius < 0 or self.graph_span < 2 or self.min_episode < 1:
            raise ValueError("need peak_radius >= 0, graph_span >= 2 and min_episode >= 1")
        if self.time_gap <= 0:
            raise ValueError("time_gap must be positive")
        if len(self.weights) != len(FEATURES) or min(self.weights) < 0 or not any(self.weights):
            raise ValueError(f"weights: {len(FEATURES)} non-negative numbers, not all zero, for {FEATURES}")

    @property
    def lookahead(self) -> int:
        """Events needed after a position before its decision is final."""
        return self.peak_radius + self.graph_span

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "weights": list(self.weights)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SegmentationConfig:
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {k: tuple(v) if k == "weights" else v for k, v in data.items() if k in known}
        return cls(**kwargs)


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


_prototype_cache: dict[str, np.ndarray] = {}
_prototype_lock = threading.Lock()


def discourse_prototypes(embedder: Any) -> np.ndarray:
    """The opener and closer directions [2, d] in ``embedder``'s space, cached per ``embedder.name``."""
    with _prototype_lock:
        cached = _prototype_cache.get(embedder.name)
    if cached is not None:
        return cached
    opener, closer, neutral = (
        np.asarray(embedder.embed(list(t)), dtype=np.float64).mean(axis=0) for t in (OPENERS, CLOSERS, NEUTRAL)
    )
    directions = np.stack([opener - neutral, closer - neutral])
    with _prototype_lock:
        _prototype_cache[embedder.name] = directions
    return directions


def _check_prototypes(prototypes: np.ndarray) -> np.ndarray:
    prototypes = np.asarray(prototypes, dtype=np.float64)
    if prototypes.ndim != 2 or prototypes.shape[0] != 2 or not np.all(np.isfinite(prototypes)):
        raise ValueError(f"prototypes must be a finite [2, d] array, got shape {prototypes.shape}")
    return prototypes


def _nan_zscore(row: np.ndarray, history: np.ndarray, min_history: int) -> np.ndarray:
    """z-scores [f] of ``row`` against ``history`` [h, f], per feature; 0 where unknown or too little history."""
    z = np.zeros_like(row)
    known = np.isfinite(history)
    counts = known.sum(axis=0)
    usable = np.isfinite(row) & (counts >= min_history)
    if not usable.any():
        return z
    cols = history[:, usable]
    z[usable] = (row[usable] - np.nanmean(cols, axis=0)) / (np.nanstd(cols, axis=0) + _EPS)
    return z


class Segmenter:
    """Streaming segmenter: ``push`` events one at a time, ``flush`` at the end.

    Both return the episode starts (absolute event indices) that became final; the first
    event of the stream is a start and is reported by the first ``push``. The state is
    bounded (about ``lookahead + window`` events) and round-trips through ``to_bytes``.
    """

    def __init__(self, config: SegmentationConfig | None = None, *, prototypes: np.ndarray | None = None) -> None:
        self.config = config or SegmentationConfig()
        self.prototypes = None if prototypes is None else _check_prototypes(prototypes)
        self._predictor: PredictorState | None = None
        self._count = 0
        self._base = 0  # index of _vectors[0] and _times[0]
        self._vectors: list[np.ndarray] = []
        self._times: list[float] = []
        self._surprise: list[float] = []  # the last ``window`` values, ending at _count - 1
        self._history: list[np.ndarray] = []  # raw feature rows of the last ``window`` positions
        self._score_base = 1
        self._scores: list[float] = []
        self._next_feature = 1
        self._next_decision = 1
        self._last_start = 0
        self._origin = 0  # the latest hard start: windows never reach behind it

    @property
    def count(self) -> int:
        """Number of events pushed so far."""
        return self._count

    @property
    def surprise(self) -> float:
        """Surprise of the latest event, in [0, 1]."""
        if not self._surprise:
            raise IndexError("no event pushed yet")
        return self._surprise[-1]

    def surprise_at(self, index: int) -> float:
        """Surprise of event ``index`` (absolute); only the last ``config.window`` are kept."""
        position = index - (self._count - len(self._surprise))
        if not 0 <= position < len(self._surprise):
            raise IndexError(f"surprise of event {index} is not kept (have {self._count - len(self._surprise)}..)")
        return self._surprise[position]

    def push(self, vector: np.ndarray, time: float | None = None, *, new_session: bool = False) -> list[int]:
        """Add one event [d] (optionally its time in seconds); return the starts that became final.

        ``new_session`` marks an explicit session break: the event starts an episode.
        """
        self._observe(vector, time)
        t = self._count - 1
        if t == 0:
            return [0]
        gap = self._times[-1] - self._times[-2]
        if new_session or (np.isfinite(gap) and gap > self.config.time_gap):
            starts = self._advance(end=t, final=True)
            self._restart(t)
            return [*starts, t]
        return self._advance(end=self._count, final=False)

    def flush(self) -> list[int]:
        """Decide the remaining positions with whatever look-ahead there is."""
        return self._advance(end=self._count, final=True)

    def _observe(self, vector: np.ndarray, time: float | None) -> None:
        x = np.asarray(vector, dtype=np.float64)
        if x.ndim != 1:
            raise ValueError(f"expected one vector [d], got shape {x.shape}")
        if self._predictor is None:
            if self.prototypes is not None and self.prototypes.shape[1] != x.shape[0]:
                raise ValueError(f"vector dim {x.shape[0]} does not match the prototypes' {self.prototypes.shape[1]}")
            self._predictor = init_state(x.shape[0], context_size=self.config.context_size)
        value, self._predictor = surprise(self._predictor, x, lr=self.config.lr, decay=self.config.decay)
        self._vectors.append(x)
        self._times.append(np.nan if time is None else float(time))
        self._surprise = [*self._surprise[-(self.config.window - 1) :], value]
        self._count += 1

    def _restart(self, t: int) -> None:
        self._origin = self._last_start = t
        self._next_feature = self._next_decision = self._score_base = t + 1
        self._scores = []
        self._trim()

    def _advance(self, *, end: int, final: bool) -> list[int]:
        span = self.config.graph_span
        while self._next_feature < end and (final or self._next_feature + span <= end):
            self._scores.append(self._score(self._next_feature, end))
            self._next_feature += 1
        starts: list[int] = []
        radius = self.config.peak_radius
        while self._next_decision < self._next_feature and (final or self._next_decision + radius < self._next_feature):
            if self._is_start(self._next_decision):
                starts.append(self._next_decision)
                self._last_start = self._next_decision
            self._next_decision += 1
        self._trim()
        return starts

    def _vector(self, index: int, end: int) -> np.ndarray:
        return self._vectors[min(max(index, self._origin), end - 1) - self._base]

    def _features(self, t: int, end: int) -> np.ndarray:
        """The raw feature row [f] of position ``t``; NaN where the stream gives no value."""
        row = np.full(len(FEATURES), np.nan)
        nxt = t + 1 < end
        if self.prototypes is not None:
            opener, closer = self.prototypes
            row[0] = opener @ self._vector(t, end)
            row[1] = opener @ self._vector(t + 1, end) if nxt else np.nan
            row[2] = closer @ self._vector(t - 1, end)
            row[3] = closer @ self._vector(t - 2, end) if t - 2 >= self._origin else np.nan
        lo, hi = max(self._origin, t - self.config.graph_span), min(end, t + self.config.graph_span)
        block = np.stack(self._vectors[lo - self._base : hi - self._base])
        _, quality = modularity_split(block @ block.T, range(t - lo, t - lo + 1))
        row[4] = quality if np.isfinite(quality) else np.nan
        row[5] = self._vector(t, end) @ self._vector(t + 1, end) if nxt else np.nan
        row[6] = self._surprise[t - self._count] if t - self._count >= -len(self._surprise) else np.nan
        return row

    def _score(self, t: int, end: int) -> float:
        row = self._features(t, end)
        history = np.array(self._history) if self._history else np.empty((0, len(FEATURES)))
        z = _nan_zscore(row, history, self.config.min_history)
        self._history = [*self._history[-(self.config.window - 1) :], row]
        weights = np.asarray(self.config.weights)
        if self.prototypes is None:
            weights = np.where([name in _DISCOURSE for name in FEATURES], 0.0, weights)
        norm = float(np.linalg.norm(weights))
        return float(weights @ z / norm) if norm > 0 else 0.0

    def _is_start(self, t: int) -> bool:
        cfg = self.config
        if t - self._last_start < cfg.min_episode:
            return False
        score = self._scores[t - self._score_base]
        timed = np.isfinite(self._times[t - self._base]) and np.isfinite(self._times[t - 1 - self._base])
        if score <= (cfg.timed_gamma if timed else cfg.gamma):
            return False
        lo = max(self._score_base, t - cfg.peak_radius) - self._score_base
        hi = min(self._next_feature, t + cfg.peak_radius + 1) - self._score_base
        return score >= max(self._scores[lo:hi])

    def _trim(self) -> None:
        keep = max(min(self._next_feature - self.config.graph_span, self._next_decision - 1), self._origin, 0)
        if keep > self._base:
            del self._vectors[: keep - self._base], self._times[: keep - self._base]
            self._base = keep
        keep_score = max(self._next_decision - self.config.peak_radius, self._score_base)
        if keep_score > self._score_base:
            del self._scores[: keep_score - self._score_base]
            self._score_base = keep_score

    def to_bytes(self) -> bytes:
        """The whole state as an ``.npz`` archive (a JSON header plus arrays; no pickle)."""
        header = {
            "format": _FORMAT,
            "config": self.config.to_json(),
            **{name: getattr(self, f"_{name}") for name in _COUNTERS},
            "context_size": self.config.context_size if self._predictor is None else self._predictor.context_size,
        }
        arrays: dict[str, Any] = {
            "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            "vectors": _rows(self._vectors),
            "times": np.asarray(self._times, dtype=np.float64),
            "surprise": np.asarray(self._surprise, dtype=np.float64),
            "history": _rows(self._history),
            "scores": np.asarray(self._scores, dtype=np.float64),
        }
        if self._predictor is not None:
            arrays["weights"], arrays["context"] = self._predictor.weights, self._predictor.context
        if self.prototypes is not None:
            arrays["prototypes"] = self.prototypes
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        config: SegmentationConfig | None = None,
        embedder: Any = None,
        prototypes: np.ndarray | None = None,
    ) -> Segmenter:
        """Restore a segmenter saved by ``to_bytes``.

        ``config`` replaces the saved settings; the saved prototypes are used unless
        ``prototypes`` are given, else those of ``embedder`` (when the saved state has none).
        """
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
            header = json.loads(arrays["header"].tobytes().decode())
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a saved segmenter state: {exc}") from exc
        if header.get("format") != _FORMAT:
            raise ValueError(f"unknown segmenter state format {header.get('format')!r}")
        if prototypes is None:
            prototypes = arrays.get("prototypes")
        if prototypes is None and embedder is not None:
            prototypes = discourse_prototypes(embedder)
        segmenter = cls(config or SegmentationConfig.from_json(header["config"]), prototypes=prototypes)
        segmenter._load(header, arrays)
        return segmenter

    def _load(self, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        for name in _COUNTERS:
            setattr(self, f"_{name}", int(header[name]))
        self._vectors = list(arrays["vectors"])
        self._times = arrays["times"].tolist()
        self._surprise = arrays["surprise"].tolist()
        self._history = list(arrays["history"])
        self._scores = arrays["scores"].tolist()
        if "weights" in arrays:
            self._predictor = PredictorState(arrays["weights"], arrays["context"], int(header["context_size"]))


_COUNTERS = ("count", "base", "score_base", "next_feature", "next_decision", "last_start", "origin")


def _rows(rows: list[np.ndarray]) -> np.ndarray:
    return np.stack(rows) if rows else np.empty((0, 0))


def new_segmenter(embedder: Any, config: SegmentationConfig | None = None) -> Segmenter:
    """A segmenter for vectors of ``embedder``, with its discourse prototypes (cached per embedder)."""
    return Segmenter(config, prototypes=discourse_prototypes(embedder))


def segment(
    vectors: np.ndarray,
    times: np.ndarray | None = None,
    *,
    config: SegmentationConfig | None = None,
    prototypes: np.ndarray | None = None,
) -> list[int]:
    """Episode starts (sorted event indices, beginning with 0) of the stream ``vectors`` [n, d].

    ``times`` [n] are seconds (NaN where unknown) or None; ``prototypes`` [2, d] come from
    ``discourse_prototypes`` (without them only the topic features count).
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be 2-d [n, d], got shape {vectors.shape}")
    if times is not None and np.shape(times) != (vectors.shape[0],):
        raise ValueError(f"times must have shape ({vectors.shape[0]},), got {np.shape(times)}")
    segmenter = Segmenter(config, prototypes=prototypes)
    starts: list[int] = []
    for i, x in enumerate(vectors):
        starts += segmenter.push(x, None if times is None else float(times[i]))
    return starts + segmenter.flush()
