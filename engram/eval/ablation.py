"""Ablation: the same benchmark with one mechanism of Engram switched off at a time.

``memory_options(without)`` turns names of mechanisms into ``Memory`` keyword arguments:

- ``segmentation``: no surprise boundaries (episodes start only at session changes, long
  pauses and the length limit);
- ``episodes``: no hierarchical (episode-level) evidence in recall;
- ``contiguity``: no temporal neighbours of hits;
- ``time_cues``: no time windows, relations or when-anchoring from the query;
- ``participants``: no preference for the participant a query names;
- ``facts``: no consolidation into facts and no associative (fact-graph) ranking;
- ``in_context``: no BM25 ranking of events read after the event before them;
- ``related_words``: no BM25 ranking over the stored words related to the query's words;
- ``topic``: no dense ranking for the query with the participants it names taken out;
- ``questions``: events that only ask a question are not demoted;
- ``feedback``: no pseudo-relevance feedback in episode recall (``recall_episodes``);
- ``recency``: no preference for the newer of the top episodes (``recall_episodes``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from engram.cognition.recall import RecallConfig
from engram.errors import InvalidInput
from engram.perception.segmentation import SegmentationConfig

__all__ = ["MECHANISMS", "memory_options", "run", "markdown"]

MECHANISMS = (
    "segmentation",
    "episodes",
    "contiguity",
    "time_cues",
    "participants",
    "facts",
    "in_context",
    "related_words",
    "topic",
    "questions",
    "feedback",
    "recency",
    "strength",
)


def memory_options(without: Collection[str]) -> dict[str, Any]:
    """``Memory`` keyword arguments with the named mechanisms switched off."""
    unknown = set(without) - set(MECHANISMS)
    if unknown:
        raise InvalidInput(f"unknown mechanism(s) {sorted(unknown)}; choose from {', '.join(MECHANISMS)}")
    recall = RecallConfig(**{name: False for name in without if name != "segmentation"})
    options: dict[str, Any] = {"recall": recall}
    if "segmentation" in without:
        options["segmentation"] = SegmentationConfig(gamma=float("inf"), timed_gamma=float("inf"))
    return options


def run(score: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """``score(options)`` for the full engine and for each mechanism switched off.

    ``score`` returns a benchmark's results dict (``report.results``); the summary keeps,
    per variant, the headline metric overall and per group.
    """
    variants: dict[str, Any] = {}
    for name in ("none", *MECHANISMS):
        results = score(memory_options([] if name == "none" else [name]))
        engram = results["engram"]
        headline = results["headline"]
        variants[name] = {
            "overall": engram["overall"][headline],
            "groups": {group: scores[headline] for group, scores in engram["groups"].items() if headline in scores},
        }
    return {"headline": headline, "variants": variants}


def markdown(title: str, summary: dict[str, Any]) -> str:
    """A table: one row per variant, the headline overall and per group, with the change from full."""
    variants = summary["variants"]
    groups = list(variants["none"]["groups"])
    head = f"| without | {summary['headline']} | " + " | ".join(groups) + " |"
    lines = [f"### {title}", "", head, "|" + "---|" * (len(groups) + 2)]
    full = variants["none"]
    for name, row in variants.items():
        label = "(full engine)" if name == "none" else name
        cells = [_cell(row["overall"], full["overall"], name)]
        cells += [_cell(row["groups"].get(g), full["groups"][g], name) for g in groups]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: float | None, full: float, name: str) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if name == "none" else f"{value:.3f} ({value - full:+.3f})"
