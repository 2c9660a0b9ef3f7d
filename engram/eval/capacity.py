"""The working-memory capacity paradigm: study more items than working memory holds.

A study list of ``items`` pairs ("study item 3" → "the lantern is in box 41") is observed under
one subgoal by a ``WorkingMemory`` of ``capacity`` items. Working memory must then hold exactly
``capacity`` of them (the span), the rest having been displaced by competitive write; and the
displaced ones must be in long-term memory, not lost: each is cued with its own noun ("where is
the lantern?") through ``Memory.recall``, and counts as found when its pair is the first hit.

The effect size compares the share of displaced items found with a buffer that drops what it
displaces (a plain bounded queue finds none): Cohen's h = 2·asin(√p) − 2·asin(√0), which is π
when every displaced item is found.

Run: ``python -m engram.eval.capacity [--capacity 7] [--items 20] [--hash]``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Sequence
from typing import Any

from engram.cognition.summaries import ExtractiveSummarizer
from engram.cognition.working import WorkingMemory
from engram.core.records import new_id
from engram.errors import InvalidInput
from engram.interfaces.api import Memory

__all__ = ["NOUNS", "capacity_paradigm"]

NOUNS = (
    "lantern", "compass", "violin", "anchor", "teapot", "helmet", "saddle", "kettle", "ladder", "mirror",
    "feather", "candle", "basket", "hammer", "trumpet", "pillow", "bucket", "wallet", "scarf", "globe",
    "carpet", "whistle", "barrel", "statue", "thimble", "cradle", "goblet", "chisel", "lute", "tractor",
    "parrot", "cactus", "harp", "canoe", "rocket", "tulip", "walrus", "zipper", "acorn", "magnet",
)  # fmt: skip
SEED = 7


def capacity_paradigm(
    memory: Memory, *, capacity: int = 7, items: int = 20, namespace: str = "capacity", seed: int = SEED
) -> dict[str, Any]:
    """Observe ``items`` study pairs in a working memory of ``capacity`` items; report the span,
    the displaced items and how many of those ``memory.recall`` finds first from their own cue.

    Raises:
        InvalidInput: ``capacity`` < 1, ``items`` not above ``capacity``, or more items than nouns.
    """
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise InvalidInput(f"capacity must be an integer of at least 1, got {capacity!r}")
    if isinstance(items, bool) or not isinstance(items, int) or not capacity < items <= len(NOUNS):
        raise InvalidInput(f"items must be an integer above capacity ({capacity}) and at most {len(NOUNS)}")
    rng = random.Random(seed)
    nouns = rng.sample(NOUNS, items)
    boxes = rng.sample(range(10, 100), items)
    working = WorkingMemory(
        memory,
        namespace=namespace,
        run=f"capacity-{new_id()}",
        max_items=capacity,
        max_tokens=64 * capacity + 64,  # the count is the limit that binds here
        summarizer=ExtractiveSummarizer(),
    )
    working.push_subgoal("Remember where each object of the study list is")
    studied = [
        working.observe(f"study item {i}", f"the {noun} is in box {box}")
        for i, (noun, box) in enumerate(zip(nouns, boxes, strict=True), start=1)
    ]
    held = {item.step for item in working.items}
    displaced = [(item, noun) for item, noun in zip(studied, nouns, strict=True) if item.step not in held]
    found = [_found_first(memory, namespace, working.run, item.step, noun) for item, noun in displaced]
    share = sum(found) / len(found) if found else 0.0
    h = 2 * math.asin(math.sqrt(share))  # against 2·asin(√0) = 0 for a buffer that drops them
    return {
        "paradigm": "working_memory_capacity",
        "capacity": capacity,
        "items": items,
        "in_working_memory": len(working.items),
        "held_steps": sorted(held),
        "displaced": working.displaced,
        "displaced_found": sum(found),
        "displaced_found_share": round(share, 4),
        "cohens_h": round(h, 3),
        "embedder": memory.embedder.name,
        "verdict": _verdict(len(working.items), capacity, len(found), sum(found), h),
    }


def _found_first(memory: Memory, namespace: str, run: str, step: int, noun: str) -> bool:
    """Whether the displaced pair of ``step`` is the first hit for a cue made from its noun."""
    hits = memory.recall(f"where is the {noun}?", namespace=namespace, k=1, session=run)
    return bool(hits) and hits[0].event.metadata.get("step") == step


def _verdict(held: int, capacity: int, displaced: int, found: int, h: float) -> str:
    span = f"working memory held {held} of capacity {capacity}"
    if held != capacity:
        return f"{span}: the limit did not hold"
    kept = "displaced, not lost" if found == displaced else f"{displaced - found} lost"
    return (
        f"{span}; {displaced} displaced, {found} found first by recall (Cohen's h = {h:.2f} vs dropping them): {kept}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engram.eval.capacity", description="The working-memory capacity paradigm."
    )
    parser.add_argument("--capacity", type=int, default=7, help="working-memory items (default 7)")
    parser.add_argument("--items", type=int, default=20, help="items studied (default 20)")
    parser.add_argument("--hash", action="store_true", help="use the hash embedder instead of MiniLM")
    args = parser.parse_args(argv)
    from engram.perception.embedders import HashEmbedder

    with Memory(":memory:", embedder=HashEmbedder(dim=256) if args.hash else None) as memory:
        result = capacity_paradigm(memory, capacity=args.capacity, items=args.items)
    sys.stdout.write(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
