"""Pattern-completion benchmark: does Hopfield completion recover a memory from a partial cue?

Every text is a stored pattern (its embedding). For each text with at least ``MIN_WORDS``
words, two kinds of degraded cue are built:

- *half words*: a random half of its words, kept in order, embedded again;
- *noisy vector*: ``normalise(x + σ u)`` with ``u`` a random unit direction, so ``σ`` is the
  noise-to-signal norm ratio (the cue's cosine to ``x`` is about ``1 / sqrt(1 + σ²)``).

A cue is answered by plain similarity (argmax of ``stored · cue``) and by Hopfield
completion (``complete`` at each β). An answer counts as correct when its text equals the
original text (so exact duplicate turns are not counted as misses). ``hit@k`` ranks all stored
patterns by the cue (plain) or by the completed state (Hopfield, the re-query use).
``gained`` / ``lost`` count cues Hopfield gets right and plain similarity wrong, and the reverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engram.neural.hopfield import DEFAULT_MAX_STEPS, complete
from engram.perception.embedders import Embedder

__all__ = ["DEFAULT_BETAS", "DEFAULT_SIGMAS", "half_word_cue", "noisy_cue", "run"]

MIN_WORDS = 8
DEFAULT_BETAS = (8.0, 16.0, 32.0, 64.0)
DEFAULT_SIGMAS = (1.0, 2.0)
DEFAULT_K = 5


def half_word_cue(text: str, rng: np.random.Generator) -> str:
    """A random half of the words of ``text`` (rounded down), in their original order."""
    words = text.split()
    keep = np.sort(rng.choice(len(words), size=len(words) // 2, replace=False))
    return " ".join(words[i] for i in keep)


def noisy_cue(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """normalise(x + σ u), u a uniformly random unit direction."""
    direction = rng.standard_normal(x.shape[0])
    cue = x + sigma * direction / np.linalg.norm(direction)
    return cue / np.linalg.norm(cue)


def _rank(scores: np.ndarray, targets: np.ndarray) -> int:
    """0-based rank of the best-scoring target among all scores (ties count in its favour)."""
    return int(np.sum(scores > scores[targets].max()))


def _score(
    stored: np.ndarray,
    cues: np.ndarray,
    targets: list[np.ndarray],
    betas: Sequence[float],
    k: int,
    max_steps: int,
) -> dict[str, Any]:
    m = len(targets)
    plain_idx = np.argmax(cues @ stored.T, axis=1)
    plain_ok = np.array([plain_idx[j] in targets[j] for j in range(m)])
    plain_at_k = np.array([_rank(stored @ cues[j], targets[j]) < k for j in range(m)])
    result: dict[str, Any] = {
        "cues": m,
        "plain": {"accuracy": float(plain_ok.mean()), f"hit@{k}": float(plain_at_k.mean())},
        "hopfield": {},
    }
    for beta in betas:
        ok = np.zeros(m, dtype=bool)
        at_k = np.zeros(m, dtype=bool)
        for j in range(m):
            index, state = complete(stored, cues[j], beta=beta, max_steps=max_steps)
            ok[j] = index in targets[j]
            at_k[j] = _rank(stored @ state, targets[j]) < k
        result["hopfield"][f"{beta:g}"] = {
            "accuracy": float(ok.mean()),
            f"hit@{k}": float(at_k.mean()),
            "gained": int(np.sum(ok & ~plain_ok)),
            "lost": int(np.sum(~ok & plain_ok)),
        }
    return result


def run(
    texts: Sequence[str],
    embedder: Embedder,
    *,
    beta_values: Sequence[float] = DEFAULT_BETAS,
    sigmas: Sequence[float] = DEFAULT_SIGMAS,
    seed: int = 0,
    limit: int | None = None,
    k: int = DEFAULT_K,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> dict[str, Any]:
    """Plain similarity vs Hopfield completion on half-word and noisy-vector cues.

    Args:
        texts: the memories; all of them are stored, those with >= ``MIN_WORDS`` words are cued.
        embedder: gives unit vectors for the texts and the half-word cues.
        beta_values: the inverse temperatures to try (``np.inf`` is nearest neighbour).
        sigmas: noise-to-signal ratios for the noisy-vector cues.
        seed: seeds the word choice and the noise.
        limit: cue at most this many texts (the first eligible ones).
        k: the cut-off of ``hit@k``.

    Returns:
        ``{"texts", "cued", "half_words": {...}, "noise": {σ: {...}}}``; each ``{...}`` holds
        ``plain`` and ``hopfield[β]`` accuracies (see the module docstring).
    """
    if not texts:
        raise ValueError("texts is empty")
    rng = np.random.default_rng(seed)
    stored = np.asarray(embedder.embed(list(texts)), dtype=np.float64)
    cued = [i for i, text in enumerate(texts) if len(text.split()) >= MIN_WORDS][:limit]
    same_text: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        same_text.setdefault(text, []).append(i)
    targets = [np.asarray(same_text[texts[i]]) for i in cued]
    half_cues = embedder.embed([half_word_cue(texts[i], rng) for i in cued])
    report: dict[str, Any] = {"texts": len(texts), "cued": len(cued)}
    if not cued:
        return report
    report["half_words"] = _score(stored, np.asarray(half_cues, dtype=np.float64), targets, beta_values, k, max_steps)
    report["noise"] = {}
    for sigma in sigmas:
        cues = np.stack([noisy_cue(stored[i], sigma, rng) for i in cued])
        report["noise"][f"{sigma:g}"] = _score(stored, cues, targets, beta_values, k, max_steps)
    return report
