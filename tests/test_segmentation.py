from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engram.eval.segmentation import boundary_scores, run
from engram.neural.predictor import init_state, predict, surprise, surprise_series, update
from engram.perception.embedders import HashEmbedder
from engram.perception.segmentation import (
    SegmentationConfig,
    Segmenter,
    modularity_split,
    new_segmenter,
    segment,
)

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
    assert np.array_equal(state.context, xs[1:].astype(np.float32))
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


def _conversation(seed: int, sizes: list[int]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """One topic throughout; each session opens with two greetings and closes with two farewells.

    Returns (vectors, prototypes [2, d], true starts): only discourse cues mark the sessions.
    """
    rng = np.random.default_rng(seed)
    opener, closer, topic = _unit(rng, 3)
    rows = []
    for size in sizes:
        session = topic + 0.6 * _unit(rng, size)
        session[:2] += 0.5 * opener
        session[-2:] += 0.5 * closer
        rows.append(session)
    vectors = np.vstack(rows)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, np.stack([opener, closer]), list(np.cumsum([0, *sizes[:-1]]))


def test_discourse_cues_find_sessions_that_topic_misses() -> None:
    vectors, prototypes, starts = _conversation(6, [14, 18, 12, 16, 20, 15])
    assert segment(vectors, prototypes=prototypes) == starts
    blind = segment(vectors)  # the cues also bend the topic a little, but not enough
    assert boundary_scores(blind[1:], starts[1:], tolerance=1)[0] < len(starts) - 1


def test_new_session_is_a_start_and_surprise_is_kept_per_event() -> None:
    vectors, _ = _clustered_stream(7, [20])
    segmenter = Segmenter()
    found: list[int] = []
    for i, x in enumerate(vectors):
        found += segmenter.push(x, new_session=i == 9)
        assert 0.0 <= segmenter.surprise_at(i) == segmenter.surprise <= 1.0
    assert found + segmenter.flush() == [0, 9]
    with pytest.raises(IndexError):
        segmenter.surprise_at(len(vectors))


def _push_all(segmenter: Segmenter, vectors: np.ndarray, times: np.ndarray, offset: int) -> tuple[list[int], list]:
    starts: list[int] = []
    values = []
    for i, x in enumerate(vectors, start=offset):
        starts += segmenter.push(x, float(times[i]), new_session=i == 70)
        values.append(segmenter.surprise_at(i))
    return starts, values


@pytest.mark.parametrize("cut", [1, 9, 33, 71, 100])
def test_save_and_restore_midway_equals_one_pass(cut: int) -> None:
    vectors, prototypes, _ = _conversation(8, [14, 18, 12, 16, 20, 15, 13])
    times = np.full(len(vectors), np.nan)
    times[40:] = np.arange(len(vectors) - 40.0)
    times[85:] += 1e5  # a long pause
    config = SegmentationConfig(window=24)
    whole = Segmenter(config, prototypes=prototypes)
    starts, values = _push_all(whole, vectors, times, 0)
    starts += whole.flush()
    first = Segmenter(config, prototypes=prototypes)
    head, head_values = _push_all(first, vectors[:cut], times, 0)
    restored = Segmenter.from_bytes(first.to_bytes())
    assert restored.config == config
    tail, tail_values = _push_all(restored, vectors[cut:], times, cut)
    assert head + tail + restored.flush() == starts
    assert head_values + tail_values == values
    assert 85 in starts and 70 in starts


def test_state_stays_bounded() -> None:
    rng = np.random.default_rng(9)
    segmenter = Segmenter(SegmentationConfig(window=16))
    sizes = []
    for n, x in enumerate(_unit(rng, 400), start=1):
        segmenter.push(x)
        if n in (100, 400):
            sizes.append(len(segmenter.to_bytes()))
    assert sizes[1] <= sizes[0] * 1.05
    assert segmenter.count == 400
    with pytest.raises(IndexError):
        segmenter.surprise_at(100)


def test_new_segmenter_prepares_and_caches_prototypes() -> None:
    embedder = HashEmbedder(dim=DIM)
    one, two = new_segmenter(embedder), new_segmenter(embedder)
    assert one.prototypes is not None and one.prototypes.shape == (2, DIM)
    assert one.prototypes is two.prototypes
    restored = Segmenter.from_bytes(Segmenter().to_bytes(), embedder=embedder)
    assert restored.prototypes is not None and np.array_equal(restored.prototypes, one.prototypes)


def test_bad_state_and_dimensions_are_rejected() -> None:
    with pytest.raises(ValueError):
        Segmenter.from_bytes(b"not a state")
    with pytest.raises(ValueError):
        Segmenter(prototypes=np.ones((2, DIM))).push(np.ones(DIM + 1))
    with pytest.raises(ValueError):
        SegmentationConfig(weights=(1.0,))
