"""Modern Hopfield retrieval (Ramsauer et al., "Hopfield Networks is All You Need", 2020).

The stored patterns ``X`` are the rows of a matrix; a state pattern ``ξ`` is updated by

    ξ <- Xᵀ softmax(β X ξ)

until it stops moving. With a large inverse temperature ``β`` the update lands on the
stored pattern nearest the state (``β = inf`` is exactly nearest neighbour: one-hot
weights); with a small ``β`` it lands near the mean of the stored patterns (a metastable
state). In between, a cue that is close to a few stored patterns is pulled towards the
one(s) it agrees with most, which is pattern completion.

``β`` is calibrated for unit rows (cosines in ``[-1, 1]``): the weights of two patterns
whose similarities to the state differ by ``Δ`` have the ratio ``exp(β Δ)``.

Shape legend:
    n  number of stored patterns
    d  pattern dimension
    stored  X [n, d] (unit rows);  state, cue, retrieved  ξ [d];  weights p [n]
"""

from __future__ import annotations

import math

import numpy as np

from engram.errors import InvalidInput

__all__ = ["complete", "hopfield_retrieve", "softmax_weights"]

DEFAULT_MAX_STEPS = 10
DEFAULT_EPS = 1e-6
_TINY = 1e-12


def _check_stored(stored: np.ndarray) -> np.ndarray:
    stored = np.asarray(stored, dtype=np.float64)
    if stored.ndim != 2:
        raise InvalidInput(f"stored must be a matrix [n, d], got shape {stored.shape}")
    if stored.shape[0] == 0:
        raise InvalidInput("stored is empty: at least one stored pattern is needed")
    if stored.shape[1] == 0:
        raise InvalidInput("stored patterns have dimension 0")
    if not np.all(np.isfinite(stored)):
        raise InvalidInput("stored has non-finite entries")
    return stored


def _check_state(state: np.ndarray, dim: int, name: str) -> np.ndarray:
    state = np.asarray(state, dtype=np.float64)
    if state.shape != (dim,):
        raise InvalidInput(f"{name} must be a vector of shape ({dim},), got {state.shape}")
    if not np.all(np.isfinite(state)):
        raise InvalidInput(f"{name} has non-finite entries")
    return state


def _check_options(beta: float, max_steps: int, eps: float) -> None:
    if not beta > 0:  # also rejects NaN
        raise InvalidInput(f"beta must be positive (np.inf for nearest neighbour), got {beta}")
    if max_steps < 1:
        raise InvalidInput(f"max_steps must be at least 1, got {max_steps}")
    if not (eps >= 0 and math.isfinite(eps)):
        raise InvalidInput(f"eps must be finite and non-negative, got {eps}")


def softmax_weights(similarities: np.ndarray, beta: float) -> np.ndarray:
    """softmax(β · similarities) [n], stable (the maximum is subtracted); β = inf gives one-hot.

    Ties under β = inf go to the first maximal index, as ``np.argmax`` does.
    """
    if math.isinf(beta):
        weights = np.zeros_like(similarities)
        weights[int(np.argmax(similarities))] = 1.0
        return weights
    # Shift before scaling: the exponents lie in [-inf, 0], so nothing overflows even for a huge
    # finite β (β · s can be inf, and inf - inf is NaN).
    exp = np.exp(beta * (similarities - similarities.max()))
    return exp / exp.sum()


def _step(stored: np.ndarray, state: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
    weights = softmax_weights(stored @ state, beta)
    return weights @ stored, weights


def hopfield_retrieve(
    stored: np.ndarray,
    state: np.ndarray,
    *,
    beta: float,
    max_steps: int = DEFAULT_MAX_STEPS,
    eps: float = DEFAULT_EPS,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Iterate ξ <- Xᵀ softmax(β X ξ) until ``||Δξ|| < eps`` or ``max_steps`` updates.

    Args:
        stored: stored patterns X [n, d], unit rows.
        state: initial state pattern ξ [d] (the cue).
        beta: inverse temperature, > 0; ``np.inf`` is hard argmax (nearest neighbour).
        max_steps: most updates to run (>= 1).
        eps: convergence threshold on the Euclidean change of the state.

    Returns:
        (retrieved ξ [d], weights p [n] of the last update, number of updates run), in float64.

    Raises:
        InvalidInput: bad shapes, non-finite values, an empty store, beta <= 0, max_steps < 1.
    """
    _check_options(beta, max_steps, eps)
    stored = _check_stored(stored)
    state = _check_state(state, stored.shape[1], "state")
    weights = np.zeros(stored.shape[0])
    for step in range(1, max_steps + 1):
        new_state, weights = _step(stored, state, beta)
        change = float(np.linalg.norm(new_state - state))
        state = new_state
        if change < eps:
            return state, weights, step
    return state, weights, max_steps


def complete(
    stored: np.ndarray,
    cue: np.ndarray,
    *,
    beta: float,
    max_steps: int = DEFAULT_MAX_STEPS,
    eps: float = DEFAULT_EPS,
) -> tuple[int, np.ndarray]:
    """Pattern completion: the stored pattern the converged state is closest to, and that state.

    The cue is normalised to unit length first (β is calibrated for unit vectors), then run
    through ``hopfield_retrieve``. "Closest" is the largest dot product with the converged
    state, i.e. the smallest Euclidean distance for unit rows.

    Returns:
        (index into stored, converged state [d] re-normalised to unit length), usable as a
        re-query vector. Should the state collapse to the origin (patterns cancelling out),
        the index is the largest weight of the last step and the state is that stored pattern.

    Raises:
        InvalidInput: as ``hopfield_retrieve``, and for a zero cue.
    """
    stored = _check_stored(stored)
    cue = _check_state(cue, stored.shape[1], "cue")
    norm = float(np.linalg.norm(cue))
    if norm <= _TINY:
        raise InvalidInput("cue is the zero vector")
    retrieved, weights, _ = hopfield_retrieve(stored, cue / norm, beta=beta, max_steps=max_steps, eps=eps)
    length = float(np.linalg.norm(retrieved))
    if length <= _TINY:
        index = int(np.argmax(weights))
        return index, stored[index] / max(float(np.linalg.norm(stored[index])), _TINY)
    retrieved = retrieved / length
    return int(np.argmax(stored @ retrieved)), retrieved
