"""Completion of a partial cue: a modern Hopfield update over stored patterns with two views.

A stored pattern ``j`` has a dense view ``x_j`` (a unit embedding) and a lexical view ``c_j``
(counts of discrete features, e.g. word stems). A cue is a dense vector ``ξ`` and the bag of
features it shows; the features it lacks are *missing*, not absent. The cue is completed with
the Hopfield update of Ramsauer et al. (2020) in its hetero-associative form

    p = softmax(β s),   s_j = K_j · [ξ ; q],   completed state = Σ_j p_j [x_j ; c_j / |c_j|]

where ``q`` counts the cue's features and the key ``K_j = [κ x_j ; ω_j]`` is chosen so that
``s_j`` is, up to a constant that the softmax ignores, the log-likelihood of the cue under
pattern ``j``: ``ξ`` drawn around ``x_j`` (von Mises-Fisher, concentration ``κ``) and each cue
feature drawn from ``j``'s own features or, with probability ``λ``, from the store's background
``P(w)`` (Jelinek-Mercer smoothing):

    log P(cue | j) = κ x_j·ξ + Σ_w q_w log((1 - λ) c_jw / |c_j| + λ P(w))
                   = κ x_j·ξ + Σ_w q_w ω_jw + const,   ω_jw = log(1 + (1 - λ) c_jw / (λ |c_j| P(w)))

``ω_jw`` is zero where ``c_jw`` is, so only the features present in both the cue and the
pattern count (the masked-cue energy), and ``ω`` is as sparse as ``c``. With ``β = 1`` the
weights are the posterior over which stored pattern the cue came from (uniform prior); with
``β = inf`` they are one-hot on the most likely one, which without a lexical view is the
nearest neighbour by cosine.

The cue's evidence is clamped and the energy reads only the evidence, so the first update is
already the fixed point: there is no loop. Letting the completed halves back into the energy
(the free iteration of ``hopfield_retrieve``, 1 or 10 more updates at β 0.5-2) or fusing the
cue's ranking with a re-query by the completed state was tried on held-out LoCoMo dev cues and
never found the right memory more often (top-1 equal within 0.002 or lower, top-5 lower), so
it is not offered here.

Shape legend:
    n  number of stored patterns         d  dense dimension
    f  number of lexical features        z  non-zero entries of the lexical view
    stored  X [n, d] (unit rows);  cue  ξ [d];  cue_features [k] feature ids (repeats count)
    lexicon  counts c [n, f], sparse: z entries in feature-major order
    weights, scores  p, s [n];  state [d];  features [f]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engram.errors import InvalidInput
from engram.neural.hopfield import softmax_weights

__all__ = [
    "DEFAULT_KAPPA",
    "DEFAULT_SMOOTHING",
    "Completion",
    "Lexicon",
    "build_lexicon",
    "complete_cue",
    "cue_scores",
    "rank_by_completion",
]

# Tuned on LoCoMo dev conv-26 and conv-30 (turns with 25-75 % of their words removed or swapped,
# features = Porter stems of every word) and reported on the other three conversations: see
# engram/eval/completion.py. For such fragments the words carry nearly all the evidence, so κ is
# small; a paraphrased question is another kind of cue and wants a larger κ.
DEFAULT_KAPPA = 0.5
DEFAULT_SMOOTHING = 0.3
_TINY = 1e-12


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The lexical view of the stored patterns: feature counts c [n, f], sparse, feature-major.

    The entries of feature ``w`` are ``starts[w]:starts[w + 1]``; ``rows``, ``features`` and
    ``counts`` [z] give each entry's pattern, feature and count. ``lengths`` [n] is ``|c_j|``
    and ``background`` [f] is ``P(w)``, the share of all counts that feature ``w`` holds.
    """

    starts: np.ndarray
    rows: np.ndarray
    features: np.ndarray
    counts: np.ndarray
    lengths: np.ndarray
    background: np.ndarray

    @property
    def n_patterns(self) -> int:
        return int(self.lengths.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.background.shape[0])


@dataclass(frozen=True, slots=True)
class Completion:
    """The completed cue.

    ``state`` [d] is the expected dense pattern Σ p_j x_j (not re-normalised); ``features``
    [f] is the expected lexical pattern Σ p_j c_j / |c_j| (``None`` without a lexicon), which
    fills in the features the cue lacks; ``weights`` [n] is p; ``scores`` [n] is s, the
    log-likelihood up to a constant (exact where ``weights`` underflow to zero).
    """

    state: np.ndarray
    features: np.ndarray | None
    weights: np.ndarray
    scores: np.ndarray


def build_lexicon(bags: Sequence[Sequence[int] | np.ndarray], n_features: int) -> Lexicon:
    """The lexical view of ``len(bags)`` stored patterns; ``bags[j]`` lists pattern j's feature ids.

    A feature id that repeats in a bag counts that many times. A pattern may have no features.

    Raises:
        InvalidInput: no bags, ``n_features < 1``, or a feature id outside ``[0, n_features)``.
    """
    if not bags:
        raise InvalidInput("bags is empty: at least one stored pattern is needed")
    if n_features < 1:
        raise InvalidInput(f"n_features must be at least 1, got {n_features}")
    n = len(bags)
    ids = [np.asarray(bag, dtype=np.int64).reshape(-1) for bag in bags]
    features = np.concatenate(ids)
    if features.size and (features.min() < 0 or features.max() >= n_features):
        raise InvalidInput(f"feature ids must lie in [0, {n_features}), got {features.min()}..{features.max()}")
    rows = np.repeat(np.arange(n, dtype=np.int64), [len(bag) for bag in ids])
    keys, counts = np.unique(features * n + rows, return_counts=True)  # sorted feature-major
    entry_features, entry_rows = keys // n, keys % n
    counts = counts.astype(np.float64)
    total = max(float(counts.sum()), _TINY)
    return Lexicon(
        starts=np.searchsorted(entry_features, np.arange(n_features + 1)),
        rows=entry_rows,
        features=entry_features,
        counts=counts,
        lengths=np.bincount(entry_rows, weights=counts, minlength=n),
        background=np.bincount(entry_features, weights=counts, minlength=n_features) / total,
    )


def _entries(starts: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry positions of the features ``ids`` and, for each, the index into ``ids`` it belongs to."""
    sizes = starts[ids + 1] - starts[ids]
    owner = np.repeat(np.arange(len(ids)), sizes)
    offsets = np.repeat(starts[ids] - np.cumsum(sizes) + sizes, sizes)
    return offsets + np.arange(int(sizes.sum())), owner


def _lexical_scores(lexicon: Lexicon, cue_features: np.ndarray, smoothing: float) -> np.ndarray:
    """Σ_w q_w ω_jw [n] over the cue's features; features no stored pattern has carry no evidence."""
    ids, q = np.unique(cue_features, return_counts=True)
    keep = lexicon.background[ids] > 0
    ids, q = ids[keep], q[keep]
    entries, owner = _entries(lexicon.starts, ids)
    rows = lexicon.rows[entries]
    ratio = lexicon.counts[entries] / (lexicon.lengths[rows] * lexicon.background[ids[owner]])
    omega = np.log1p((1 - smoothing) / smoothing * ratio)
    return np.bincount(rows, weights=q[owner] * omega, minlength=lexicon.n_patterns)


def _check_stored(stored: np.ndarray) -> np.ndarray:
    stored = np.asarray(stored)
    if stored.ndim != 2 or stored.shape[0] == 0 or stored.shape[1] == 0:
        raise InvalidInput(f"stored must be a non-empty matrix [n, d], got shape {stored.shape}")
    if not np.issubdtype(stored.dtype, np.floating):
        stored = stored.astype(np.float64)
    return stored


def _check_cue(cue: np.ndarray, dim: int) -> np.ndarray:
    cue = np.asarray(cue, dtype=np.float64)
    if cue.shape != (dim,):
        raise InvalidInput(f"cue must be a vector of shape ({dim},), got {cue.shape}")
    if not np.all(np.isfinite(cue)):
        raise InvalidInput("cue has non-finite entries")
    norm = float(np.linalg.norm(cue))
    if norm <= _TINY:
        raise InvalidInput("cue is the zero vector")
    return cue / norm


def _check_features(lexicon: Lexicon | None, cue_features: Sequence[int] | np.ndarray | None, n: int) -> np.ndarray:
    if lexicon is None:
        if cue_features is not None:
            raise InvalidInput("cue_features were given without a lexicon")
        return np.zeros(0, dtype=np.int64)
    if cue_features is None:
        raise InvalidInput("a lexicon needs cue_features (an empty list for a cue with no features)")
    if lexicon.n_patterns != n:
        raise InvalidInput(f"the lexicon has {lexicon.n_patterns} patterns, stored has {n}")
    ids = np.asarray(cue_features, dtype=np.int64).reshape(-1)
    if ids.size and (ids.min() < 0 or ids.max() >= lexicon.n_features):
        raise InvalidInput(f"cue_features must lie in [0, {lexicon.n_features}), got {ids.min()}..{ids.max()}")
    return ids


def _check_options(kappa: float, smoothing: float) -> None:
    if not (math.isfinite(kappa) and kappa >= 0):
        raise InvalidInput(f"kappa must be finite and non-negative, got {kappa}")
    if not 0 < smoothing <= 1:  # also rejects NaN
        raise InvalidInput(f"smoothing must lie in (0, 1], got {smoothing}")


def cue_scores(
    stored: np.ndarray,
    cue: np.ndarray,
    *,
    lexicon: Lexicon | None = None,
    cue_features: Sequence[int] | np.ndarray | None = None,
    kappa: float = DEFAULT_KAPPA,
    smoothing: float = DEFAULT_SMOOTHING,
) -> np.ndarray:
    """s [n]: the log-likelihood of the cue under each stored pattern, up to a shared constant.

    Args:
        stored: dense view X [n, d], unit rows (float32 is used as is, without a copy).
        cue: the cue's dense vector ξ [d]; normalised to unit length here.
        lexicon: the lexical view of the same n patterns (``build_lexicon``), or None.
        cue_features: the cue's feature ids [k] (repeats count); required with a lexicon.
        kappa: κ >= 0, the weight of the dense view (its von Mises-Fisher concentration).
        smoothing: λ in (0, 1], the chance a cue feature is background rather than the pattern's.

    Raises:
        InvalidInput: bad shapes, non-finite values, a zero cue, mismatched or out-of-range
            lexicon arguments, kappa < 0, smoothing outside (0, 1].
    """
    _check_options(kappa, smoothing)
    stored = _check_stored(stored)
    unit_cue = _check_cue(cue, stored.shape[1])
    ids = _check_features(lexicon, cue_features, stored.shape[0])
    scores = kappa * (stored @ unit_cue.astype(stored.dtype)).astype(np.float64)
    if lexicon is not None:
        scores += _lexical_scores(lexicon, ids, smoothing)
    # A non-finite stored entry shows up here at O(n) cost, instead of scanning X [n, d] per query.
    if not np.all(np.isfinite(scores)):
        raise InvalidInput("stored has non-finite entries")
    return scores


def complete_cue(
    stored: np.ndarray,
    cue: np.ndarray,
    *,
    lexicon: Lexicon | None = None,
    cue_features: Sequence[int] | np.ndarray | None = None,
    beta: float = 1.0,
    kappa: float = DEFAULT_KAPPA,
    smoothing: float = DEFAULT_SMOOTHING,
) -> Completion:
    """Complete a partial cue: the posterior weights over stored patterns and the expected pattern.

    Args:
        beta: inverse temperature β > 0; 1 is the Bayes posterior, ``np.inf`` the single most
            likely pattern (one-hot weights). The other arguments are those of ``cue_scores``.

    Returns:
        ``Completion(state [d], features [f] or None, weights [n], scores [n])``, float64.

    Raises:
        InvalidInput: as ``cue_scores``, and for beta <= 0 or NaN.
    """
    if not beta > 0:  # also rejects NaN
        raise InvalidInput(f"beta must be positive (np.inf for the most likely pattern), got {beta}")
    scores = cue_scores(stored, cue, lexicon=lexicon, cue_features=cue_features, kappa=kappa, smoothing=smoothing)
    weights = softmax_weights(scores, beta)
    state = (weights.astype(stored.dtype) @ stored).astype(np.float64)
    features = None
    if lexicon is not None:
        share = weights[lexicon.rows] * lexicon.counts / lexicon.lengths[lexicon.rows]
        features = np.bincount(lexicon.features, weights=share, minlength=lexicon.n_features)
    return Completion(state=state, features=features, weights=weights, scores=scores)


def rank_by_completion(
    stored: np.ndarray,
    cue: np.ndarray,
    *,
    lexicon: Lexicon | None = None,
    cue_features: Sequence[int] | np.ndarray | None = None,
    kappa: float = DEFAULT_KAPPA,
    smoothing: float = DEFAULT_SMOOTHING,
    k: int | None = None,
) -> np.ndarray:
    """Rows of ``stored`` [k] by completion weight, best first (ties by row): what recall re-ranks with.

    The order of the weights is the order of the scores for every β, so β is not an argument.

    Raises:
        InvalidInput: as ``cue_scores``, and for k < 1.
    """
    if k is not None and k < 1:
        raise InvalidInput(f"k must be at least 1, got {k}")
    scores = cue_scores(stored, cue, lexicon=lexicon, cue_features=cue_features, kappa=kappa, smoothing=smoothing)
    rows = np.arange(scores.shape[0])
    if k is not None and k < scores.shape[0]:
        kth = np.partition(scores, scores.shape[0] - k)[scores.shape[0] - k]  # the k-th best score
        rows = np.flatnonzero(scores >= kth)  # ties at the cut are kept, then cut by row below
    return rows[np.lexsort((rows, -scores[rows]))][:k]
