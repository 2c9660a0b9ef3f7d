"""An online predictor of a stream of unit vectors: a gated delta-rule fast-weight memory.

In the spirit of Titans (Behrouz et al., 2025) and Gated DeltaNet (Yang et al., 2025): an
associative memory ``W`` maps a *key* (the decayed mean of the recent context) to the next
vector. The prediction is residual, ``pred = normalise(key + W key)``, so a fresh memory
predicts "more of the same" and ``W`` learns the stream's transitions. Each write is one
delta-rule step with a forgetting gate:

    W <- (1 - decay) W + lr (x - key - W key) key^T / (key^T key)

Surprise is the normalised prediction error ``(1 - cos(pred, x)) / 2`` in ``[0, 1]``
(``||x - pred||^2 / 4`` for unit vectors): 0 when the prediction is exact, 0.5 when unrelated.

Shape legend:
    d  embedding dimension
    k  context length (number of recent vectors kept, ``<= context_size``)
    n  stream length
    W  [d, d] fast weights;  context [k, d];  x, pred, key [d];  stream [n, d]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PredictorState", "init_state", "predict", "surprise", "surprise_series", "update"]

DEFAULT_CONTEXT_SIZE = 4
DEFAULT_LR = 0.5
DEFAULT_DECAY = 0.02
DEFAULT_CONTEXT_DECAY = 0.6  # weight ratio between successive context vectors, newest first
_EPS = 1e-12
DTYPE = np.float32  # the state is saved with the segmenter's: float32 halves it (d = 384: 0.6 MB)


@dataclass(frozen=True)
class PredictorState:
    """Fast weights ``W`` [d, d] and the ``context`` [k, d] of recent vectors, oldest first."""

    weights: np.ndarray
    context: np.ndarray
    context_size: int = DEFAULT_CONTEXT_SIZE

    @property
    def dim(self) -> int:
        return int(self.weights.shape[0])


def init_state(dim: int, *, context_size: int = DEFAULT_CONTEXT_SIZE) -> PredictorState:
    """A blank memory: zero weights, empty context."""
    if dim < 1:
        raise ValueError(f"dim must be positive, got {dim}")
    if context_size < 1:
        raise ValueError(f"context_size must be positive, got {context_size}")
    return PredictorState(
        weights=np.zeros((dim, dim), dtype=DTYPE),
        context=np.zeros((0, dim), dtype=DTYPE),
        context_size=context_size,
    )


def _check_vector(state: PredictorState, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=DTYPE)
    if x.shape != (state.dim,):
        raise ValueError(f"expected a vector of shape ({state.dim},), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("vector has non-finite entries")
    return x


def _normalise(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > _EPS else np.zeros_like(v)


def context_key(state: PredictorState, *, context_decay: float = DEFAULT_CONTEXT_DECAY) -> np.ndarray:
    """The key [d]: the decayed mean of the context (newest weighted most); zeros if empty."""
    k = state.context.shape[0]
    if k == 0:
        return np.zeros(state.dim, dtype=DTYPE)
    weights = (context_decay ** np.arange(k - 1, -1, -1)).astype(DTYPE)
    return _normalise(weights @ state.context)


def predict(state: PredictorState, *, context_decay: float = DEFAULT_CONTEXT_DECAY) -> np.ndarray:
    """The predicted next vector [d] (unit norm, or zeros before anything was seen)."""
    key = context_key(state, context_decay=context_decay)
    return _normalise(key + state.weights @ key)


def update(
    state: PredictorState,
    x: np.ndarray,
    *,
    lr: float = DEFAULT_LR,
    decay: float = DEFAULT_DECAY,
    context_decay: float = DEFAULT_CONTEXT_DECAY,
) -> PredictorState:
    """Write ``x`` [d]: one gated delta-rule step on ``W``, then push ``x`` onto the context."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must lie in [0, 1], got {decay}")
    if lr < 0.0:
        raise ValueError(f"lr must be non-negative, got {lr}")
    x = _check_vector(state, x)
    key = context_key(state, context_decay=context_decay)
    weights: np.ndarray = np.float32(1.0 - decay) * state.weights
    if np.any(key):
        error = x - key - state.weights @ key  # residual target: what the context did not predict
        weights = weights + np.float32(lr) * np.outer(error, key)  # key is unit, so no extra normalisation
    context = np.vstack([state.context, x[None, :]])[-state.context_size :]
    return PredictorState(weights=weights.astype(DTYPE), context=context.astype(DTYPE), context_size=state.context_size)


def surprise(
    state: PredictorState,
    x: np.ndarray,
    *,
    lr: float = DEFAULT_LR,
    decay: float = DEFAULT_DECAY,
    context_decay: float = DEFAULT_CONTEXT_DECAY,
) -> tuple[float, PredictorState]:
    """Surprise of ``x`` [d] under ``state``, in [0, 1], and the state after writing ``x``.

    The first vector of a stream (nothing to predict from) has surprise 0.5, "unrelated".
    """
    x = _check_vector(state, x)
    pred = predict(state, context_decay=context_decay)
    cosine = float(pred @ _normalise(x))
    value = min(max((1.0 - cosine) / 2.0, 0.0), 1.0)
    return value, update(state, x, lr=lr, decay=decay, context_decay=context_decay)


def surprise_series(
    state: PredictorState,
    stream: np.ndarray,
    *,
    lr: float = DEFAULT_LR,
    decay: float = DEFAULT_DECAY,
    context_decay: float = DEFAULT_CONTEXT_DECAY,
) -> tuple[np.ndarray, PredictorState]:
    """Surprise of each row of ``stream`` [n, d] in turn: returns ([n], final state)."""
    stream = np.asarray(stream, dtype=np.float64)
    if stream.ndim != 2 or stream.shape[1] != state.dim:
        raise ValueError(f"expected a stream of shape (n, {state.dim}), got {stream.shape}")
    values = np.empty(stream.shape[0])
    for i, x in enumerate(stream):
        values[i], state = surprise(state, x, lr=lr, decay=decay, context_decay=context_decay)
    return values, state
