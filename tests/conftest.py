from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from engram import HashEmbedder, Memory
from engram.stores.memory import InMemoryStore
from engram.stores.sqlite import SQLiteStore

if TYPE_CHECKING:
    from test_llm_client import ScriptedServer


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


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1 (``test_llm_client.ScriptedServer``)."""
    from test_llm_client import ScriptedServer

    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # talk to 127.0.0.1 directly
    scripted = ScriptedServer()
    yield scripted
    scripted.close()
    assert not scripted.script.answers, "scripted answers left unplayed"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff pauses, recorded instead of slept (the clock is a process edge)."""
    from engram.llm import client as client_module

    recorded: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", recorded.append)
    return recorded
