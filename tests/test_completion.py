"""Likelihood completion of partial cues (engram.neural.completion): limits, the energy, validation."""

from __future__ import annotations

import numpy as np
import pytest

from engram.errors import InvalidInput
from engram.neural.completion import Lexicon, build_lexicon, complete_cue, cue_scores, rank_by_completion

DIM = 32
VOCABULARY = 400


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _bag_vector(bag: np.ndarray, words: np.ndarray, common: np.ndarray) -> np.ndarray:
    """A bag-of-words embedding plus a shared direction: patterns as crowded as LoCoMo turns."""
    return _unit(words[bag].sum(axis=0) + 0.15 * len(bag) * common)


class Memories:
    """A seeded synthetic store: 300 patterns of 12 Zipf-distributed features, dense and lexical."""

    def __init__(self, seed: int = 0, n: int = 300) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.words = rng.standard_normal((VOCABULARY, DIM)) / np.sqrt(DIM)
        self.common = _unit(rng.standard_normal(DIM))
        frequency = 1.0 / np.arange(1, VOCABULARY + 1)
        self.bags = [rng.choice(VOCABULARY, size=12, p=frequency / frequency.sum()) for _ in range(n)]
        self.dense = np.stack([_bag_vector(bag, self.words, self.common) for bag in self.bags])
        self.lexicon = build_lexicon(self.bags, VOCABULARY)

    def half_cue(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Half of pattern j's features, kept at random, and the embedding of that half."""
        kept = self.rng.choice(self.bags[j], size=6, replace=False)
        return _bag_vector(kept, self.words, self.common), kept


@pytest.fixture(scope="module")
def memories() -> Memories:
    return Memories()


def test_infinite_beta_without_a_lexicon_is_nearest_neighbour(memories: Memories) -> None:
    rng = np.random.default_rng(1)
    for cue in rng.standard_normal((40, DIM)):
        nearest = int(np.argmax(memories.dense @ cue))
        completion = complete_cue(memories.dense, cue, beta=np.inf)
        assert completion.weights[nearest] == 1.0 and completion.weights.sum() == 1.0
        np.testing.assert_array_equal(completion.state, memories.dense[nearest])
        assert completion.features is None
        assert rank_by_completion(memories.dense, cue, k=1)[0] == nearest
        assert int(np.argmax(complete_cue(memories.dense, cue, beta=1e6).weights)) == nearest


def test_infinite_beta_with_a_lexicon_is_the_most_likely_pattern(memories: Memories) -> None:
    for j in range(20):
        cue, features = memories.half_cue(j)
        scores = cue_scores(memories.dense, cue, lexicon=memories.lexicon, cue_features=features)
        completion = complete_cue(memories.dense, cue, lexicon=memories.lexicon, cue_features=features, beta=np.inf)
        assert int(np.argmax(completion.weights)) == int(np.argmax(scores))


def test_scores_are_the_log_likelihood_up_to_a_constant(memories: Memories) -> None:
    kappa, smoothing = 3.0, 0.25
    cue, features = memories.half_cue(7)
    counts = np.zeros((len(memories.bags), VOCABULARY))
    for j, bag in enumerate(memories.bags):
        np.add.at(counts[j], bag, 1.0)
    background = counts.sum(axis=0) / counts.sum()
    unigram = (1 - smoothing) * counts / counts.sum(axis=1, keepdims=True) + smoothing * background
    log_likelihood = kappa * memories.dense @ cue + np.log(unigram[:, features]).sum(axis=1)
    scores = cue_scores(
        memories.dense, cue, lexicon=memories.lexicon, cue_features=features, kappa=kappa, smoothing=smoothing
    )
    np.testing.assert_allclose(scores - scores.max(), log_likelihood - log_likelihood.max(), atol=1e-9)
    posterior = np.exp(log_likelihood - log_likelihood.max())
    weights = complete_cue(
        memories.dense, cue, lexicon=memories.lexicon, cue_features=features, kappa=kappa, smoothing=smoothing
    ).weights
    np.testing.assert_allclose(weights, posterior / posterior.sum(), atol=1e-12)  # β = 1 is Bayes


def test_stored_patterns_are_fixed_points(memories: Memories) -> None:
    for j in range(0, 300, 15):
        bag = memories.bags[j]
        completion = complete_cue(
            memories.dense, memories.dense[j], lexicon=memories.lexicon, cue_features=bag, beta=100.0
        )
        assert completion.weights[j] > 1 - 1e-9
        np.testing.assert_allclose(completion.state, memories.dense[j], atol=1e-9)
        assert completion.features is not None
        np.testing.assert_allclose(completion.features, np.bincount(bag, minlength=VOCABULARY) / 12, atol=1e-9)
        again = complete_cue(memories.dense, completion.state, lexicon=memories.lexicon, cue_features=bag, beta=100.0)
        np.testing.assert_allclose(again.state, completion.state, atol=1e-9)


def test_half_masked_patterns_are_completed_more_often_than_plain_similarity(memories: Memories) -> None:
    cues = [memories.half_cue(j) for j in range(300)]
    plain = np.array([int(np.argmax(memories.dense @ cue)) == j for j, (cue, _) in enumerate(cues)])
    completions = [
        complete_cue(memories.dense, cue, lexicon=memories.lexicon, cue_features=features, beta=np.inf)
        for cue, features in cues
    ]
    completed = np.array([int(np.argmax(c.weights)) == j for j, c in enumerate(completions)])
    similarities = memories.dense @ memories.dense.T
    assert 0.3 < similarities[~np.eye(300, dtype=bool)].mean() < 0.5  # crowded, like LoCoMo turns (0.30-0.42)
    assert 0.6 < plain.mean() < 0.9  # plain similarity makes mistakes, but is no coin toss
    assert completed.mean() > plain.mean() + 0.1
    assert np.sum(completed & ~plain) > 5 * np.sum(~completed & plain)
    # the missing half is filled in: a right completion carries every feature of the memory
    for j, completion in enumerate(completions):
        if completed[j]:
            assert completion.features is not None
            assert set(np.flatnonzero(completion.features)) == set(memories.bags[j])


def test_ranking_is_by_weight_with_ties_by_row() -> None:
    stored = _unit(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    cue = np.array([1.0, 0.0])
    assert rank_by_completion(stored, cue).tolist() == [0, 1, 3, 2]
    assert rank_by_completion(stored, cue, k=1).tolist() == [0]
    assert rank_by_completion(stored, cue, k=2).tolist() == [0, 1]
    assert rank_by_completion(stored, cue, k=10).tolist() == [0, 1, 3, 2]


def test_float32_patterns_are_used_as_they_are(memories: Memories) -> None:
    cue, features = memories.half_cue(3)
    single = complete_cue(memories.dense.astype(np.float32), cue, lexicon=memories.lexicon, cue_features=features)
    double = complete_cue(memories.dense, cue, lexicon=memories.lexicon, cue_features=features)
    np.testing.assert_allclose(single.scores, double.scores, atol=1e-5)
    assert single.state.dtype == np.float64


def test_build_lexicon_counts_repeats_and_allows_empty_bags() -> None:
    lexicon = build_lexicon([[2, 0, 2], [], [1]], 4)
    assert isinstance(lexicon, Lexicon)
    assert lexicon.n_patterns == 3 and lexicon.n_features == 4
    assert lexicon.lengths.tolist() == [3.0, 0.0, 1.0]
    np.testing.assert_allclose(lexicon.background, [0.25, 0.25, 0.5, 0.0])
    assert lexicon.starts.tolist() == [0, 1, 2, 3, 3]
    assert list(zip(lexicon.rows.tolist(), lexicon.counts.tolist(), strict=True)) == [(0, 1.0), (2, 1.0), (0, 2.0)]
    scores = cue_scores(np.eye(3, 2, dtype=float) + 0.1, np.ones(2), lexicon=lexicon, cue_features=[3], kappa=0.0)
    assert scores.tolist() == [0.0, 0.0, 0.0]  # a feature no pattern has is no evidence


_STORED = np.eye(3, 4)
_LEXICON = build_lexicon([[0], [1], [2]], 3)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"stored": np.ones(4)}, "matrix"),
        ({"stored": np.zeros((0, 4))}, "matrix"),
        ({"cue": np.ones(5)}, "shape"),
        ({"cue": np.ones((1, 4))}, "shape"),
        ({"cue": np.array([1.0, np.nan, 0.0, 0.0])}, "non-finite"),
        ({"cue": np.zeros(4)}, "zero"),
        ({"stored": np.full((3, 4), np.nan)}, "stored has non-finite"),
        ({"beta": 0.0}, "beta"),
        ({"beta": -1.0}, "beta"),
        ({"beta": float("nan")}, "beta"),
        ({"kappa": -1.0}, "kappa"),
        ({"kappa": float("inf")}, "kappa"),
        ({"smoothing": 0.0}, "smoothing"),
        ({"smoothing": 1.5}, "smoothing"),
        ({"cue_features": [0]}, "without a lexicon"),
        ({"lexicon": _LEXICON}, "needs cue_features"),
        ({"lexicon": build_lexicon([[0], [1]], 3), "cue_features": [0]}, "2 patterns"),
        ({"lexicon": _LEXICON, "cue_features": [3]}, r"\[0, 3\)"),
        ({"lexicon": _LEXICON, "cue_features": [-1]}, r"\[0, 3\)"),
    ],
)
def test_invalid_input_raises(arguments: dict[str, object], message: str) -> None:
    call = {"stored": _STORED, "cue": np.ones(4)} | arguments
    with pytest.raises(InvalidInput, match=message):
        complete_cue(**call)  # type: ignore[arg-type]
    if "beta" not in arguments:
        with pytest.raises(InvalidInput, match=message):
            rank_by_completion(**call)  # type: ignore[arg-type]


def test_invalid_lexicons_and_cut_offs_raise() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        build_lexicon([], 3)
    with pytest.raises(InvalidInput, match="n_features"):
        build_lexicon([[0]], 0)
    with pytest.raises(InvalidInput, match=r"\[0, 2\)"):
        build_lexicon([[0, 2]], 2)
    with pytest.raises(InvalidInput, match="k must"):
        rank_by_completion(_STORED, np.ones(4), k=0)
