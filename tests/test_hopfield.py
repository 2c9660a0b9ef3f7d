"""Modern Hopfield retrieval: numerics, limits in β, validation, and the completion benchmark harness."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engram import HashEmbedder
from engram.errors import InvalidInput
from engram.eval import completion
from engram.neural.hopfield import complete, hopfield_retrieve, softmax_weights


def _unit_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def stored() -> np.ndarray:
    return _unit_rows(np.random.default_rng(0), 50, 32)


def test_softmax_is_stable_for_huge_beta() -> None:
    weights = softmax_weights(np.array([0.2, 0.9, -0.5]), 1e300)
    assert np.array_equal(weights, [0.0, 1.0, 0.0])


def test_softmax_sums_to_one() -> None:
    weights = softmax_weights(np.array([0.1, 0.4, 0.3]), 8.0)
    assert weights.sum() == pytest.approx(1.0)
    assert np.all(np.diff(weights[[0, 2, 1]]) > 0)  # monotone in similarity


def test_infinite_beta_is_one_hot_first_maximum() -> None:
    assert np.array_equal(softmax_weights(np.array([0.3, 0.7, 0.7]), np.inf), [0.0, 1.0, 0.0])


@pytest.mark.parametrize("seed", range(5))
def test_large_finite_beta_is_nearest_neighbour(seed: int) -> None:
    rng = np.random.default_rng(seed)
    stored = _unit_rows(rng, 100, 24)
    for cue in _unit_rows(rng, 40, 24):
        nearest = int(np.argmax(stored @ cue))
        index, state = complete(stored, cue, beta=1e6)
        assert index == nearest
        np.testing.assert_allclose(state, stored[nearest], atol=1e-9)


def test_infinite_beta_retrieves_nearest_pattern_in_one_update(stored: np.ndarray) -> None:
    cue = _unit_rows(np.random.default_rng(1), 1, 32)[0]
    retrieved, weights, steps = hopfield_retrieve(stored, cue, beta=np.inf)
    nearest = int(np.argmax(stored @ cue))
    assert np.array_equal(retrieved, stored[nearest])
    assert weights[nearest] == 1.0 and weights.sum() == 1.0
    assert steps == 2  # one update to land, one to see it does not move


def test_stored_patterns_are_fixed_points(stored: np.ndarray) -> None:
    for pattern in stored[:10]:
        retrieved, weights, steps = hopfield_retrieve(stored, pattern, beta=100.0)
        np.testing.assert_allclose(retrieved, pattern, atol=1e-9)
        assert steps == 1
        assert weights.max() > 1 - 1e-9


def test_small_beta_averages(stored: np.ndarray) -> None:
    cue = stored[0]
    mean = stored.mean(axis=0)
    errors = [np.linalg.norm(hopfield_retrieve(stored, cue, beta=b)[0] - mean) for b in (1e-1, 1e-3, 1e-5)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-5


def test_converges_in_few_steps(stored: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    for i in range(10):
        cue = stored[i] + 0.3 * rng.standard_normal(32) / np.sqrt(32)
        retrieved, _, steps = hopfield_retrieve(stored, cue, beta=32.0, max_steps=50, eps=1e-9)
        assert steps <= 4
        assert float(retrieved @ stored[i]) > 0.999


def test_max_steps_bounds_the_iteration(stored: np.ndarray) -> None:
    _, _, steps = hopfield_retrieve(stored, stored[0] * 0.5, beta=4.0, max_steps=1, eps=0.0)
    assert steps == 1


def test_half_zeroed_cues_are_completed_at_least_as_often_as_plain_similarity() -> None:
    rng = np.random.default_rng(3)
    stored = _unit_rows(rng, 200, 32)
    cues = stored.copy()
    for cue in cues:
        cue[rng.choice(32, size=16, replace=False)] = 0.0
    plain = np.argmax(cues @ stored.T, axis=1) == np.arange(200)
    assert 0.8 < plain.mean() < 1.0  # the task is neither trivial nor hopeless
    results = [complete(stored, cue, beta=32.0) for cue in cues]
    hopfield = np.array([index == i for i, (index, _) in enumerate(results)])
    assert hopfield.mean() >= plain.mean()
    # completion fills in the missing half: the state is the whole stored pattern, not the cue
    completed = [float(state @ stored[i]) for i, (index, state) in enumerate(results) if index == i]
    assert min(completed) > 0.999
    assert float(np.mean([cues[i] @ stored[i] / np.linalg.norm(cues[i]) for i in range(200)])) < 0.8


@pytest.mark.parametrize(
    ("stored_", "state", "beta", "message"),
    [
        (np.zeros((0, 4)), np.ones(4), 1.0, "empty"),
        (np.ones(4), np.ones(4), 1.0, "matrix"),
        (np.ones((3, 4)), np.ones(5), 1.0, "shape"),
        (np.ones((3, 4)), np.ones((1, 4)), 1.0, "shape"),
        (np.full((3, 4), np.nan), np.ones(4), 1.0, "non-finite"),
        (np.ones((3, 4)), np.array([1.0, np.inf, 0.0, 0.0]), 1.0, "non-finite"),
        (np.ones((3, 4)), np.ones(4), 0.0, "beta"),
        (np.ones((3, 4)), np.ones(4), -1.0, "beta"),
        (np.ones((3, 4)), np.ones(4), float("nan"), "beta"),
    ],
)
def test_invalid_input_raises(stored_: np.ndarray, state: np.ndarray, beta: float, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        hopfield_retrieve(stored_, state, beta=beta)
    with pytest.raises(InvalidInput, match=message if message != "shape" else "cue"):
        complete(stored_, state, beta=beta)


def test_invalid_options_raise(stored: np.ndarray) -> None:
    with pytest.raises(InvalidInput, match="max_steps"):
        hopfield_retrieve(stored, stored[0], beta=1.0, max_steps=0)
    with pytest.raises(InvalidInput, match="eps"):
        hopfield_retrieve(stored, stored[0], beta=1.0, eps=-1.0)
    with pytest.raises(InvalidInput, match="zero"):
        complete(stored, np.zeros(32), beta=1.0)


_SUBJECTS = ["Alice", "Bob", "Carol", "Dave", "Erin"]
_PLACES = ["the harbour", "a mountain cabin", "the old library", "her cousin's farm"]
_TOPICS = ["painting", "sailing", "chess", "gardening", "jazz", "baking", "hiking", "poetry", "rockets", "birds"]


def _conversation(verb: str) -> list[str]:
    return [
        f"{who}: last weekend I {verb} {where} and we talked about {topic} for hours"
        for who, where, topic in zip(_SUBJECTS * 4, _PLACES * 5, _TOPICS * 2, strict=False)
    ] + ["Bob: ok", "Alice: thanks!"]


_CONVERSATIONS = {"tune-me": _conversation("went to"), "report-me": _conversation("drove out to")}


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return completion.run(_CONVERSATIONS, HashEmbedder(dim=256), tune=["tune-me"], seed=1)


def test_completion_benchmark_tunes_on_one_store_and_reports_on_the_other(report: dict[str, Any]) -> None:
    assert report["tune"] == ["tune-me"] and report["held_out"] == ["report-me"]
    assert report["turns"] == {"tune-me": 22, "report-me": 22}
    assert set(report["results"]) == set(completion.CUE_KINDS)
    for block in report["results"].values():
        assert block["cues"] == 20  # the two short turns are stored, not cued
        assert set(block["methods"]) == set(completion.METHODS)
        plain = block["methods"]["plain"]
        assert plain["vs_plain"] == {"gained": 0, "lost": 0, "p": 1.0}
        assert plain["top1_ci95"][0] <= plain["top1"] <= plain["top1_ci95"][1]
        assert block["methods"]["likelihood"]["top1"] >= plain["top1"]
    assert set(report["tuned"]) == {name for name, (_, grid) in completion.METHODS.items() if len(grid) > 1}


def test_completion_benchmark_is_deterministic_and_limited(report: dict[str, Any]) -> None:
    again = completion.run(_CONVERSATIONS, HashEmbedder(dim=256), tune=["tune-me"], seed=1)
    assert again == report
    small = completion.run(
        _CONVERSATIONS, HashEmbedder(dim=256), tune=["tune-me"], kinds=["drop50"], methods=["likelihood"], limit=5
    )
    assert small["results"]["drop50"]["cues"] == 5
    assert set(small["results"]["drop50"]["methods"]) == {*completion.REFERENCES, "likelihood"}


def test_completion_benchmark_needs_a_store_on_each_side() -> None:
    with pytest.raises(InvalidInput, match="tune on"):
        completion.run(_CONVERSATIONS, HashEmbedder(dim=256), tune=["tune-me", "report-me"])
    with pytest.raises(InvalidInput, match="unknown"):
        completion.run(_CONVERSATIONS, HashEmbedder(dim=256), tune=["tune-me"], kinds=["drop99"])


def test_half_word_cue_keeps_half_the_words_in_order() -> None:
    text = "one two three four five six seven eight nine"
    cue = completion.half_word_cue(text, np.random.default_rng(0)).split()
    assert len(cue) == 4
    assert cue == sorted(cue, key=text.split().index)
    assert len(completion.drop_word_cue(text, 0.75, np.random.default_rng(0)).split()) == 2


def test_swap_word_cue_replaces_words_from_the_pool() -> None:
    text = "one two three four five six seven eight"
    cue = completion.swap_word_cue(text, 0.5, ["X"], np.random.default_rng(0)).split()
    assert len(cue) == 8 and cue.count("X") == 4
    assert [w for w in cue if w != "X"] == [w for w in text.split() if w in cue]


def test_sign_test_and_interval() -> None:
    assert completion._sign_test(0, 0) == 1.0
    assert completion._sign_test(10, 0) == pytest.approx(2 / 1024)
    assert completion._sign_test(3, 3) == 1.0
    low, high = completion._wilson(90, 100)
    assert low < 0.9 < high and 0.8 < low and high < 0.95
