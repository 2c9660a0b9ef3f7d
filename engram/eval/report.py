"""Benchmark results: one dict shape for every benchmark, written as JSON and Markdown.

A results dict looks like::

    {"benchmark": "locomo", "headline": "recall@10", "engram": {...}, "baselines": {"bm25": {...}, "dense": {...}},
     "ratios": {"bm25": {"recall@10": 1.07, ...}, ...}, "n_questions": 760,
     "seconds": 812.4, "embedder": "all-MiniLM-L6-v2/onnx-int8"}

Each system's entry has ``overall`` (metric -> mean), ``groups`` (group -> metric -> mean,
per category or question type) and whatever else its runner adds. A ratio is
Engram / baseline for each overall metric both report (``None`` where the baseline is 0).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["markdown", "ratios", "results", "write"]


def ratios(engram: Mapping[str, float], baseline: Mapping[str, float]) -> dict[str, float | None]:
    """Engram / baseline for every metric both have; ``None`` where the baseline is 0."""
    return {
        metric: (round(engram[metric] / baseline[metric], 4) if baseline[metric] else None)
        for metric in engram
        if metric in baseline
    }


def results(
    *,
    benchmark: str,
    engram: dict[str, Any],
    baselines: dict[str, dict[str, Any]],
    n_questions: int,
    seconds: float,
    embedder: str,
    headline: str,
) -> dict[str, Any]:
    """Assemble the results dict, computing the ratios from the ``overall`` entries.

    ``headline`` names the metric the Markdown report breaks down by group.
    """
    return {
        "benchmark": benchmark,
        "headline": headline,
        "engram": engram,
        "baselines": baselines,
        "ratios": {name: ratios(engram["overall"], entry["overall"]) for name, entry in baselines.items()},
        "n_questions": n_questions,
        "seconds": round(seconds, 2),
        "embedder": embedder,
    }


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _overall_table(res: Mapping[str, Any]) -> list[str]:
    names = list(res["baselines"])
    header = ["metric", "Engram"] + [part for name in names for part in (name, f"Engram/{name}")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for metric, value in res["engram"]["overall"].items():
        cells = [metric, _cell(value)]
        for name in names:
            cells += [_cell(res["baselines"][name]["overall"].get(metric)), _cell(res["ratios"][name].get(metric))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _group_table(res: Mapping[str, Any], metric: str) -> list[str]:
    names = list(res["baselines"])
    header = ["group", "Engram", *names]
    lines = [f"{metric} by group:", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group, scores in res["engram"].get("groups", {}).items():
        cells = [group, _cell(scores.get(metric))]
        cells += [_cell(res["baselines"][name].get("groups", {}).get(group, {}).get(metric)) for name in names]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _section_table(res: Mapping[str, Any], section: str) -> list[str]:
    names = list(res["baselines"])
    header = ["metric", "Engram", *names]
    lines = [f"{section} (reported separately):", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for metric, value in res["engram"][section].items():
        cells = [metric, _cell(value)]
        cells += [_cell(res["baselines"][name].get(section, {}).get(metric)) for name in names]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _sections(entry: Mapping[str, Any]) -> list[str]:
    """Metric blocks besides ``overall`` and ``groups`` (e.g. LoCoMo's adversarial category)."""
    return [key for key, value in entry.items() if key not in ("overall", "groups") and isinstance(value, Mapping)]


def markdown(res: Mapping[str, Any]) -> str:
    """A short Markdown report: overall table with ratios, headline per group, other blocks."""
    lines = [
        f"## {res['benchmark']}",
        "",
        f"{res['n_questions']} questions, embedder `{res['embedder']}`, {res['seconds']:.0f} s.",
        "",
        *_overall_table(res),
    ]
    metric = res.get("headline") or next(iter(res["engram"]["overall"]), None)
    if metric and res["engram"].get("groups"):
        lines += ["", *_group_table(res, metric)]
    for section in _sections(res["engram"]):
        lines += ["", *_section_table(res, section)]
    return "\n".join(lines) + "\n"


def write(res: Mapping[str, Any], out_dir: Path) -> str:
    """Write ``<benchmark>.json`` and ``<benchmark>.md`` into ``out_dir``; return the Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = markdown(res)
    (out_dir / f"{res['benchmark']}.json").write_text(
        json.dumps(res, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    (out_dir / f"{res['benchmark']}.md").write_text(text, encoding="utf-8")
    return text
