from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engram import HashEmbedder, Memory
from engram.stores.memory import InMemoryStore
from engram.stores.sqlite import SQLiteStore


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """Every Store implementation, for the contract suite."""
    backend = SQLiteStore(tmp_path / "store") if request.param == "sqlite" else InMemoryStore()
    yield backend
    backend.close()


@pytest.fixture(params=["sqlite", "memory"])
def mem(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Memory]:
    """A Memory over each backend with the deterministic hash embedder."""
    path = tmp_path / "mem" if request.param == "sqlite" else ":memory:"
    memory = Memory(path, embedder=HashEmbedder(dim=256))
    yield memory
    memory.close()
