"""Memory strength: how well each memory is held, and how time and use change that.

Every event, episode and fact has a strength state: ``stability`` (days: the delay at which
retention falls to 0.9), ``last_access`` (unix seconds: when it was formed or last recalled),
``accesses`` (how often recall returned it) and ``salience`` in [0, 1] (surprise, explicit
importance and repetition). Nothing here writes anything: retention and activation are pure
functions of that state and of ``at``, the moment of the question, so memories fade lazily,
at recall time, without a timer rewriting rows.

**Forgetting curve: a power law**, ``R(Δ) = (1 + F·Δ/S)^C`` with ``F = 19/81`` and
``C = −0.5`` so that ``R(S) = 0.9`` — the curve of FSRS-4.5, fitted to hundreds of millions
of spaced-repetition reviews. A power law rather than an exponential because that is what
forgetting data show once averaged over items and over delays from minutes to years (Wixted &
Ebbesen 1991; Rubin & Wenzel 1996, a hundred years of forgetting): a mixture of exponentials
of different stabilities is a power law, and its long tail is the "permastore" that old
memories settle into. An exponential would erase a year-old memory completely.

**Recall as practice (testing and spacing effects).** A recall that returns a memory at delay
Δ raises its stability by FSRS-4.5's rule for a successful review,
``S' = S·(1 + e^{w8}·(11 − D)·S^{−w9}·(e^{w10·(1 − R)} − 1))``, with its published default
weights and the difficulty fixed at its default for a new item: the gain grows as retention
``R`` at the moment of recall falls (a longer gap: the spacing effect) and shrinks as the
memory is already stable. A massed repetition (R ≈ 1) adds almost nothing.

**Initial stability from salience**: ``S0 = S_hard · (S_easy / S_hard)^σ``, from FSRS's
initial stabilities of an item first rated "hard" (1.40 days) and "easy" (13.82 days).

**Base-level activation (ACT-R)** ranks memories: ``B = ln Σ_j t_j^{−d} + β·σ`` over the
times ``t_j`` (seconds) since each presentation (its encoding and every recall), with decay
``d = 0.5`` (ACT-R's default) and ``β`` a base-level constant per memory from its salience.
The sum is computed with Petrov's (2006) hybrid approximation from the exact time since the
last presentation and the lifetime, so no access history is stored.

Shape legend: every function takes scalars or equal-length arrays ``[n]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DAY",
    "FADED",
    "Strength",
    "activation",
    "initial_stability",
    "onset",
    "retention",
    "salience",
    "stability_after_recall",
]

DAY = 86_400.0
FACTOR, DECAY = 19 / 81, -0.5  # FSRS-4.5: R(S) = (1 + 19/81)^-0.5 = 0.9
W8, W9, W10, DIFFICULTY = 1.6474, 0.1367, 1.0461, 5.1618  # FSRS-4.5 default weights w8, w9, w10, w4
S_HARD, S_EASY = 1.4003, 13.8206  # FSRS-4.5 initial stability (days) of an item rated hard / easy
ACTR_DECAY = 0.5  # ACT-R's default base-level decay d
SALIENCE_BETA = 2.0  # base-level constant of a fully salient memory (ACT-R's per-chunk β); see below
ONSET, ONSET_DECAY = 0.5, 0.6  # salience of an episode's first event, and its fall per later event
# Sweeps (LoCoMo dev recall@10 with strength on; free recall of 15-word lists, first three /
# middle third / last three): β 1, no onset: 0.771, no primacy at all (0.32 / 0.39 / 0.50 with the
# middle taken as positions 4-12); β 1, onset decay 0.8: 0.765, 0.19 / 0.24 / 0.90; β 2, decay
# 0.8: 0.765, 0.51 / 0.18 / 0.79; β 2, decay 0.6: 0.768, 0.50 / 0.19 / 0.75 (chosen). Strength
# off: 0.767.
MIN_LAG = 1.0  # seconds: a presentation is never closer than this (keeps t^-d finite)
# Retention below which a memory drops out of default recall (unless the cue is strong).
# With S0 between 1.4 and 13.8 days it is reached after 1.6 to 16 years untouched.
FADED = 0.1


@dataclass(frozen=True, slots=True)
class Strength:
    """The strength of one memory at a moment ``at``.

    ``kind`` is ``event``, ``episode`` or ``fact``; ``stability`` is in days;
    ``last_access`` is when it was formed or last recalled; ``accesses`` counts recalls;
    ``retention`` in (0, 1] is the forgetting curve at ``at``; ``activation`` is ACT-R's
    base-level activation; ``faded`` says retention is below the threshold of default recall.
    """

    kind: str
    id: str
    stability: float
    last_access: float
    accesses: int
    salience: float
    retention: float
    activation: float
    faded: bool


def retention(stability: np.ndarray | float, elapsed: np.ndarray | float) -> np.ndarray:
    """The forgetting curve: retention after ``elapsed`` seconds at ``stability`` days.

    1 at no delay (and for a moment before the memory was formed), 0.9 at ``stability``,
    decreasing and positive ever after."""
    days = np.maximum(np.asarray(elapsed, dtype=np.float64), 0.0) / DAY
    return np.power(1.0 + FACTOR * days / np.asarray(stability, dtype=np.float64), DECAY)


def stability_after_recall(stability: np.ndarray | float, recalled_retention: np.ndarray | float) -> np.ndarray:
    """Stability after a recall that found the memory at retention ``recalled_retention``."""
    s = np.asarray(stability, dtype=np.float64)
    r = np.asarray(recalled_retention, dtype=np.float64)
    gain = math.exp(W8) * (11.0 - DIFFICULTY) * np.power(s, -W9) * np.expm1(W10 * (1.0 - r))
    return s * (1.0 + gain)


def initial_stability(salience_: np.ndarray | float) -> np.ndarray:
    """Stability (days) of a memory just formed with salience in [0, 1]."""
    sigma = np.clip(np.asarray(salience_, dtype=np.float64), 0.0, 1.0)
    return S_HARD * np.power(S_EASY / S_HARD, sigma)


def salience(
    surprise: np.ndarray | float,
    importance: np.ndarray | float,
    copies: np.ndarray | float = 1,
    onset: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Salience in [0, 1]: any of surprise, explicit importance, repetition and an episode's
    onset makes a memory salient — ``1 − (1 − surprise)(1 − importance)(1 − repetition)(1 − onset)``
    with repetition ``1 − 2^−(copies − 1)``. Unknown values (NaN) count as 0."""
    s = np.nan_to_num(np.clip(np.asarray(surprise, dtype=np.float64), 0.0, 1.0))
    i = np.nan_to_num(np.clip(np.asarray(importance, dtype=np.float64), 0.0, 1.0))
    o = np.nan_to_num(np.clip(np.asarray(onset, dtype=np.float64), 0.0, 1.0))
    repetition = 1.0 - np.power(2.0, -(np.maximum(np.asarray(copies, dtype=np.float64), 1.0) - 1.0))
    return 1.0 - (1.0 - s) * (1.0 - i) * (1.0 - repetition) * (1.0 - o)


def onset(position: np.ndarray | int) -> np.ndarray:
    """The salience an event gets from its place in its episode: ``ONSET · ONSET_DECAY^position``
    (0 for the first event). At an event boundary the mind builds a new model of the situation
    and encodes what comes first best (Page & Norris's primacy gradient; Zacks et al.'s event
    segmentation theory)."""
    return ONSET * np.power(ONSET_DECAY, np.maximum(np.asarray(position, dtype=np.float64), 0.0))


def activation(
    formed: np.ndarray | float,
    last_access: np.ndarray | float,
    accesses: np.ndarray | float,
    salience_: np.ndarray | float,
    at: float,
) -> np.ndarray:
    """ACT-R base-level activation at ``at`` (unix seconds) of memories formed at ``formed``,
    last presented at ``last_access``, recalled ``accesses`` times since.

    Petrov's hybrid approximation of ``ln Σ_j t_j^−d``: the last presentation exactly, the
    other ``n − 1`` spread evenly over the lifetime ``L``:
    ``t_last^−d + (n − 1)·(L^{1−d} − t_last^{1−d}) / ((1 − d)(L − t_last))``.
    """
    d = ACTR_DECAY
    lifetime = np.maximum(at - np.asarray(formed, dtype=np.float64), MIN_LAG)
    since_last = np.minimum(np.maximum(at - np.asarray(last_access, dtype=np.float64), MIN_LAG), lifetime)
    others = np.asarray(accesses, dtype=np.float64)  # presentations besides the last: n - 1
    spread = lifetime - since_last
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = np.where(
            spread > MIN_LAG,
            others * (lifetime ** (1 - d) - since_last ** (1 - d)) / ((1 - d) * spread),
            others * since_last**-d,  # every presentation at about the same moment
        )
    return np.log(since_last**-d + rest) + SALIENCE_BETA * np.asarray(salience_, dtype=np.float64)
