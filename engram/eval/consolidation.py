"""Consolidation speed and cost: events/s offline, and LLM calls and tokens per event.

Every turn of a LoCoMo file (one namespace per conversation) is remembered first, untimed;
then ``Memory.consolidate()`` is timed over all of them, end to end: reading events,
extraction, entity resolution (name embeddings), fact embeddings, supersession and the
per-chunk transactions. Two extractors are measured:

- ``rules``: the offline default (``RuleExtractor``);
- ``llm``: ``LLMExtractor`` with the rules as fallback, talking to the scripted server of
  ``scripted_llm`` over real HTTP. Its claims are the rules' claims, so its throughput is
  the plumbing's, not a model's; calls per 100 events and tokens per event are those of
  Engram's real prompts and batches (tokens estimated as characters / 4).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from engram.eval import locomo
from engram.interfaces.api import Memory
from engram.llm.extraction import Extractor
from engram.perception.embedders import Embedder

__all__ = ["markdown", "run"]


def _rules() -> Extractor:
    from engram.llm.rules import RuleExtractor

    return RuleExtractor()


def _llm(url: str) -> Extractor:
    from engram.llm.client import LLMConfig
    from engram.llm.extract import with_rules_fallback

    return with_rules_fallback(LLMConfig(url=url, model="scripted", timeout=30))


def _measure(path: Path, embedder: Embedder, workdir: Path, extractor: Extractor, limit: int | None) -> dict[str, Any]:
    store = workdir / "consolidation"
    shutil.rmtree(store, ignore_errors=True)
    with Memory(store, embedder=embedder, extractor=extractor) as memory:
        for conv in locomo.load(path)[:limit]:
            memory.remember_many(locomo.events_of(conv), namespace=conv.sample_id)
        started, cpu = time.perf_counter(), time.process_time()
        report = memory.consolidate()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        stats = memory.stats()
    usage, events = report.usage, max(report.events, 1)
    return {
        "extractor": extractor.name,
        "events": report.events,
        "seconds": round(seconds, 2),
        "events_per_second": round(report.events / seconds, 1),
        "events_per_cpu_second": round(report.events / cpu_seconds, 1),
        "claims": report.claims,
        "facts": stats["facts"],
        "current_facts": stats["current_facts"],
        "entities": stats["entities"],
        "merged": report.merged,
        "superseded": report.superseded,
        "llm_calls_per_100_events": round(100 * usage["calls"] / events, 2),
        "tokens_per_event": round(usage["total_tokens"] / events, 1),
        "prompt_tokens_per_event": round(usage["prompt_tokens"] / events, 1),
        "fallback_batches": usage["fallbacks"],
    }


def run(path: Path, *, embedder: Embedder, workdir: Path, limit: int | None = None) -> dict[str, Any]:
    """Consolidate the LoCoMo file's turns offline and through the scripted LLM; one row each."""
    from engram.eval.scripted_llm import scripted_llm

    rows = [_measure(path, embedder, workdir, _rules(), limit)]
    with scripted_llm(_rules()) as url:
        rows.append(_measure(path, embedder, workdir, _llm(url), limit))
    return {"benchmark": "consolidation", "embedder": embedder.name, "rows": rows}


def markdown(results: dict[str, Any]) -> str:
    """One table row per extractor."""
    keys = [
        "events",
        "events_per_second",
        "events_per_cpu_second",
        "claims",
        "facts",
        "entities",
        "superseded",
        "llm_calls_per_100_events",
        "tokens_per_event",
        "fallback_batches",
    ]
    lines = ["## consolidation", "", "| extractor | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    lines += [f"| {r['extractor']} | " + " | ".join(str(r[k]) for k in keys) + " |" for r in results["rows"]]
    return "\n".join(lines) + "\n"
