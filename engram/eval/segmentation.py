"""Episode segmentation benchmark: recover session starts from a stream of turns.

Each LoCoMo conversation (and optionally each MSC episode, its earlier sessions followed by
the current one) is streamed as one sequence of "Speaker: text" turns with the session
markers removed. The predicted episode starts are scored against the true session starts
(the stream's first event excluded) with a tolerance of ``TOLERANCE`` events and
one-to-one matching. With ``with_timestamps`` each LoCoMo turn carries its session's date.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from engram.eval import locomo
from engram.perception.embedders import Embedder
from engram.perception.segmentation import SegmentationConfig, discourse_prototypes, segment

__all__ = ["benchmark", "boundary_scores", "markdown", "run"]

TOLERANCE = 2
DEFAULT_MSC_LIMIT = 100


def boundary_scores(predicted: list[int], gold: list[int], *, tolerance: int = TOLERANCE) -> tuple[int, int, int]:
    """(matched, predicted count, gold count): greedy one-to-one matching, nearest pairs first."""
    pairs = sorted((abs(p - g), p, g) for p in predicted for g in gold if abs(p - g) <= tolerance)
    used_p: set[int] = set()
    used_g: set[int] = set()
    for _, p, g in pairs:
        if p not in used_p and g not in used_g:
            used_p.add(p)
            used_g.add(g)
    return len(used_p), len(predicted), len(gold)


def _prf(matched: int, n_pred: int, n_gold: int) -> dict[str, float]:
    precision = matched / n_pred if n_pred else 0.0
    recall = matched / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _locomo_streams(path: Path, with_timestamps: bool) -> list[tuple[str, list[str], list[int], np.ndarray | None]]:
    streams = []
    for conv in locomo.load(path):
        texts: list[str] = []
        starts: list[int] = []
        times: list[float] = []
        for session in conv.sessions:
            starts.append(len(texts))
            texts += [f"{turn.speaker}: {turn.text}" for turn in session.turns]
            times += [session.started_at.timestamp()] * len(session.turns)
        streams.append((conv.sample_id, texts, starts, np.asarray(times) if with_timestamps else None))
    return streams


def _msc_streams(path: Path, limit: int) -> list[tuple[str, list[str], list[int], None]]:
    streams = []
    with path.open() as handle:
        for number, line in enumerate(handle):
            if number >= limit:
                break
            episode = json.loads(line)
            texts: list[str] = []
            starts: list[int] = []
            for dialog in [*(d["dialog"] for d in episode["previous_dialogs"]), episode["dialog"]]:
                starts.append(len(texts))
                texts += [f"Speaker {1 + i % 2}: {turn['text']}" for i, turn in enumerate(dialog)]
            streams.append((f"msc-{number}", texts, starts, None))
    return streams


def _score(streams: list[Any], embedder: Embedder, config: SegmentationConfig) -> dict[str, Any]:
    totals = np.zeros(3, dtype=int)
    per_stream = {}
    prototypes = discourse_prototypes(embedder)
    for name, texts, starts, times in streams:
        vectors = embedder.embed(texts)
        predicted = [s for s in segment(vectors, times, config=config, prototypes=prototypes) if s > 0]
        counts = boundary_scores(predicted, starts[1:])
        totals += counts
        per_stream[name] = _prf(*counts)
    return {
        **_prf(*totals.tolist()),
        "streams": len(streams),
        "gold_boundaries": int(totals[2]),
        "per_stream": per_stream,
    }


def _score_memory(streams: list[Any], embedder: Embedder) -> dict[str, Any]:
    """The same streams through ``Memory.remember_many`` (one batch each, no sessions, no times)
    and ``Memory.timeline``: segmentation as a user gets it, state, catch-up and all."""
    from engram import Memory

    totals = np.zeros(3, dtype=int)
    for _name, texts, starts, _times in streams:
        memory = Memory(":memory:", embedder=embedder)
        events = memory.remember_many([{"text": text} for text in texts], namespace="stream")
        position = {event.id: i for i, event in enumerate(events)}
        predicted = [position[e.first_event_id] for e in memory.timeline("stream")][1:]
        totals += boundary_scores(predicted, starts[1:])
        memory.close()
    return {**_prf(*totals.tolist()), "streams": len(streams), "gold_boundaries": int(totals[2])}


def run(
    locomo_path: str | Path,
    msc_path: str | Path | None = None,
    *,
    embedder: Embedder,
    with_timestamps: bool,
    config: SegmentationConfig | None = None,
    msc_limit: int = DEFAULT_MSC_LIMIT,
) -> dict[str, Any]:
    """Boundary precision / recall / F1 (micro-averaged over boundaries) per data set.

    ``msc_path`` is one MSC dialogue file (e.g. ``msc_dialogue_session_3_test.jsonl``); its
    sessions carry no usable absolute times, so MSC is always scored without timestamps.
    """
    config = config or SegmentationConfig()
    results: dict[str, Any] = {"config": config.to_json(), "tolerance": TOLERANCE}
    results["locomo"] = _score(_locomo_streams(Path(locomo_path), with_timestamps), embedder, config)
    if msc_path is not None:
        results["msc"] = _score(_msc_streams(Path(msc_path), msc_limit), embedder, config)
    return results


def benchmark(
    locomo_path: str | Path,
    msc_path: str | Path | None = None,
    *,
    embedder: Embedder,
    config: SegmentationConfig | None = None,
    msc_limit: int = DEFAULT_MSC_LIMIT,
) -> dict[str, Any]:
    """The full report: LoCoMo without and with timestamps, and MSC (when given), one config."""
    config = config or SegmentationConfig()
    plain = run(locomo_path, msc_path, embedder=embedder, with_timestamps=False, config=config, msc_limit=msc_limit)
    timed = run(locomo_path, embedder=embedder, with_timestamps=True, config=config)
    results = {
        "benchmark": "segmentation",
        "embedder": embedder.name,
        "config": plain["config"],
        "tolerance": TOLERANCE,
        "locomo": plain["locomo"],
        "locomo_timestamps": timed["locomo"],
        "locomo_memory": _score_memory(_locomo_streams(Path(locomo_path), False), embedder),
    }
    if "msc" in plain:
        results["msc"] = {**plain["msc"], "limit": msc_limit}
    return results


_ROWS = (
    ("locomo", "LoCoMo, no timestamps"),
    ("locomo_timestamps", "LoCoMo, with timestamps"),
    ("locomo_memory", "LoCoMo, no timestamps, through Memory.remember_many and timeline"),
    ("msc", "MSC, no timestamps"),
)


def markdown(results: dict[str, Any]) -> str:
    """A Markdown table of ``benchmark``'s results."""
    lines = [
        f"# Episode segmentation (embedder {results['embedder']}, tolerance ±{results['tolerance']} events)",
        "",
        "| stream set | streams | gold boundaries | precision | recall | F1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, title in _ROWS:
        if key in results:
            r = results[key]
            lines.append(
                f"| {title} | {r['streams']} | {r['gold_boundaries']} "
                f"| {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} |"
            )
    return "\n".join(lines) + "\n"
