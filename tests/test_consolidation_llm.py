"""Consolidation through an LLM extractor over real HTTP on 127.0.0.1, with the offline fallback.

The scripted server (``engram.eval.scripted_llm``) answers Engram's real extraction prompts
with the claims of a deterministic twin extractor, so these tests pin the plumbing: batching,
token usage recorded per consolidation step and reported by ``stats``, and the fallback when
the endpoint dies.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

from twins import TwinExtractor

from engram import HashEmbedder, Memory
from engram.eval.scripted_llm import scripted_llm
from engram.llm.client import LLMClient, LLMConfig
from engram.llm.extract import FallbackExtractor, LLMExtractor

T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)


def _items(n: int) -> list[dict[str, object]]:
    return [
        {"text": f"I like hobby{i}", "speaker": "Ann", "session": f"s{i // 10}", "occurred_at": T0 + timedelta(hours=i)}
        for i in range(n)
    ]


def _extractor(url: str) -> FallbackExtractor:
    config = LLMConfig(url=url, model="scripted", timeout=5, max_retries=0, backoff=0)
    return FallbackExtractor(LLMExtractor(LLMClient(config), batch_size=20), TwinExtractor())


def test_llm_consolidation_records_calls_and_tokens(tmp_path) -> None:
    with scripted_llm(TwinExtractor()) as url:
        mem = Memory(tmp_path / "m", embedder=HashEmbedder(dim=64), extractor=_extractor(url))
        mem.remember_many(_items(60), namespace="ann")
        report = mem.consolidate("ann")
    assert report.events == 60 and report.inserted == 60
    assert report.usage["calls"] >= 3 and report.usage["fallbacks"] == 0  # chunks of whole episodes, ≤ 20 a batch
    assert report.usage["prompt_tokens"] > 60 * 5
    stats = mem.stats()["llm_usage"]
    assert stats["calls"] == report.usage["calls"] and stats["total_tokens"] == report.usage["total_tokens"]
    assert {f.extractor for f in mem.facts("ann")} == {"llm:scripted|twin"}
    mem.close()


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there any more


def test_a_dead_endpoint_falls_back_to_the_offline_extractor_and_says_so(tmp_path) -> None:
    mem = Memory(tmp_path / "m", embedder=HashEmbedder(dim=64), extractor=_extractor(_dead_url()))
    mem.remember_many(_items(30), namespace="ann")
    report = mem.consolidate("ann")
    assert report.inserted == 30  # nothing dropped
    assert report.usage["fallbacks"] == report.usage["batches"] > 0
    assert mem.stats()["llm_usage"]["fallbacks"] == report.usage["fallbacks"]
    mem.close()
