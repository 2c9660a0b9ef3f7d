from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engram.eval.segmentation import boundary_scores, run
from engram.neural.predictor import init_state, predict, surprise, surprise_series, update
from engram.perception.embedders import HashEmbedder
from engram.perception.segmentation import SegmentationConfig, Segmenter, modularity_split, segment

DIM = 64


def _unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _clustered_stream(seed: int, sizes: list[int], noise: float = 0.35) -> tuple[np.ndarray, list[int]]:
    """Events drawn around one random centre per episode; returns (vectors, true starts)."""
    rng = np.random.default_rng(seed)
    centres = _unit(rng, len(sizes))
    rows = [centres[i] + noise * _unit(rng, size) for i, size in enumerate(sizes)]
    vectors = np.vstack(rows)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), list(np.cumsum([0, *sizes[:-1]]))


def test_surprise_low_on_repetition_high_on_topic_switch() -> None:
    a, b = _unit(np.random.default_rng(0), 2)
    state = init_state(DIM)
    for _ in range(8):
        _, state = surprise(state, a)
    repeat, state = surprise(state, a)
    switch, _ = surprise(state, b)
    assert repeat < 0.01
    assert switch > 0.4
    assert 0.0 <= repeat <= switch <= 1.0


def test_first_vector_is_unrelated() -> None:
    value, state = surprise(init_state(DIM), _unit(np.random.default_rng(1), 1)[0])
    assert value == pytest.approx(0.5)
    assert state.context.shape == (1, DIM)


def test_update_returns_new_state_and_leaves_input_alone() -> None:
    state = init_state(DIM, context_size=2)
    xs = _unit(np.random.default_rng(2), 3)
    for x in xs:
        before = state.weights.copy()
        new = update(state, x)
        assert np.array_equal(state.weights, before)
        state = new
    assert state.context.shape == (2, DIM)
    assert np.array_equal(state.context, xs[1:])
    assert predict(state).shape == (DIM,)


def test_chunked_surprise_equals_one_shot() -> None:
    stream, _ = _clustered_stream(3, [10, 10, 10])
    whole, final = surprise_series(init_state(DIM), stream)
    first, state = surprise_series(init_state(DIM), stream[:13])
    second, state = surprise_series(state, stream[13:])
    assert np.allclose(np.concatenate([first, second]), whole)
    assert np.allclose(state.weights, final.weights)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_segment_finds_cluster_boundaries(seed: int) -> None:
    vectors, starts = _clustered_stream(seed, [15, 25, 12, 20, 18])
    predicted = segment(vectors)
    assert predicted[0] == 0
    matched, _, n_gold = boundary_scores(predicted[1:], starts[1:], tolerance=1)
    assert matched == n_gold
    assert len(predicted) <= len(starts) + 1


def test_streaming_segmenter_equals_one_shot() -> None:
    vectors, _ = _clustered_stream(4, [12, 18, 15])
    segmenter = Segmenter(SegmentationConfig())
    pushed = [start for x in vectors for start in segmenter.push(x)] + segmenter.flush()
    assert pushed == segment(vectors)


def test_time_gaps_are_boundaries() -> None:
    rng = np.random.default_rng(5)
    centre = _unit(rng, 1)[0]
    vectors = centre + 0.05 * _unit(rng, 30)  # one topic throughout: only the clock can split it
    times = np.concatenate([np.arange(10.0), 1e5 + np.arange(10.0), 2e5 + np.arange(10.0)])
    assert segment(vectors, times) == [0, 10, 20]
    assert segment(vectors) == [0]


def test_modularity_prefers_the_block_split() -> None:
    blocks = np.kron(np.eye(2), np.ones((4, 4)))
    split, quality = modularity_split(blocks, range(1, 8))
    assert split == 4
    assert quality == pytest.approx(0.5)


def test_validation() -> None:
    with pytest.raises(ValueError):
        init_state(0)
    with pytest.raises(ValueError):
        surprise(init_state(DIM), np.ones(DIM + 1))
    with pytest.raises(ValueError):
        update(init_state(DIM), np.ones(DIM), decay=1.5)
    with pytest.raises(ValueError):
        segment(np.ones(DIM))
    with pytest.raises(ValueError):
        segment(np.ones((3, DIM)), np.zeros(2))
    with pytest.raises(ValueError):
        SegmentationConfig(window=1)


def test_boundary_scores_match_one_to_one() -> None:
    assert boundary_scores([10, 11], [10], tolerance=2) == (1, 2, 1)
    assert boundary_scores([5, 30], [7, 20], tolerance=2) == (1, 2, 2)


def test_run_on_a_tiny_locomo_file(tmp_path: Path) -> None:
    topics = ["cats dogs pets", "stocks bonds money", "guitar piano music"]
    body: dict[str, object] = {"speaker_a": "Ann", "speaker_b": "Bob"}
    for s, topic in enumerate(topics, start=1):
        speakers = ["Ann", "Bob"]
        body[f"session_{s}"] = [
            {"speaker": speakers[i % 2], "dia_id": f"D{s}:{i + 1}", "text": f"{topic} {i}"} for i in range(8)
        ]
        body[f"session_{s}_date_time"] = f"1:56 pm on {s} May, 2023"
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps([{"sample_id": "conv-x", "conversation": body, "qa": []}]))
    result = run(path, embedder=HashEmbedder(dim=DIM), with_timestamps=True)
    assert result["locomo"]["f1"] == pytest.approx(1.0)
    assert result["locomo"]["gold_boundaries"] == 2
