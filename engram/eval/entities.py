"""The entity-merge threshold, measured: cosine between name embeddings on labelled name pairs.

Consolidation merges a new surface name into an existing entity when the two names' unit
embeddings are at least ``MERGE_THRESHOLD`` cosine-similar (and their types agree). The pairs
below are written by hand (no benchmark text): ``True`` pairs name one thing (nicknames,
abbreviations, kin words, longer and shorter forms), ``False`` pairs name two things of the
same kind that a careless merge would conflate. Exact matches after normalisation never reach
the embedding step, so none are listed. A false merge corrupts facts, a missed one only splits
them, so the threshold is chosen for precision: the lowest threshold whose precision is 1.0.

Run: ``python -m engram.eval.entities`` (uses the default embedder).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from engram.perception.embedders import Embedder, default_embedder

__all__ = ["PAIRS", "sweep"]

PAIRS: tuple[tuple[str, str, bool], ...] = (
    ("New York City", "NYC", True),
    ("Los Angeles", "LA", True),
    ("United Kingdom", "UK", True),
    ("United States", "USA", True),
    ("mom", "mother", True),
    ("mum", "mom", True),
    ("dad", "father", True),
    ("grandma", "grandmother", True),
    ("grandpa", "grandfather", True),
    ("Louvre", "Louvre Museum", True),
    ("Google", "Google Inc", True),
    ("Barcelona", "Barcelona Spain", True),
    ("Central Park", "Central Park NYC", True),
    ("puppy Max", "Max", True),
    ("Golden Gate", "Golden Gate Bridge", True),
    ("Eiffel Tower", "the Eiffel tower in Paris", True),
    ("Microsoft Corporation", "Microsoft", True),
    ("Yosemite", "Yosemite National Park", True),
    ("Mount Everest", "Everest", True),
    ("Amazon", "Amazon.com", True),
    ("Berlin", "Munich", False),
    ("Paris", "Rome", False),
    ("Lisbon", "Porto", False),
    ("John", "James", False),
    ("Anna", "Hanna", False),
    ("Oliver", "Olivia", False),
    ("Google", "Microsoft", False),
    ("Max", "Luna", False),
    ("sister", "brother", False),
    ("mom", "dad", False),
    ("Portugal", "Spain", False),
    ("Sweden", "Switzerland", False),
    ("New York", "New Jersey", False),
    ("Austria", "Australia", False),
    ("Harvard", "Yale", False),
    ("Starbucks", "Dunkin Donuts", False),
    ("Bailey", "Buddy", False),
    ("son", "daughter", False),
    ("aunt", "uncle", False),
    ("Seattle", "Portland", False),
    ("Tom", "Tim", False),
    ("Emma", "Emily", False),
    ("Chicago", "Chicago Bulls", False),
    ("Jordan", "Michael Jordan", False),
    ("Amazon", "Amazon river", False),
)


def sweep(embedder: Embedder, pairs: Sequence[tuple[str, str, bool]] = PAIRS) -> dict[str, Any]:
    """Precision and recall of "merge when cosine >= t" for t from 0.50 to 0.99."""
    left = embedder.embed([a for a, _, _ in pairs])
    right = embedder.embed([b for _, b, _ in pairs])
    cosine = np.sum(left * right, axis=1)
    same = np.array([label for _, _, label in pairs], dtype=bool)
    rows = []
    for t in np.round(np.arange(0.50, 1.0, 0.01), 2).tolist():
        merged = cosine >= t
        tp = int(np.sum(merged & same))
        precision = tp / int(merged.sum()) if merged.any() else 1.0
        rows.append({"threshold": t, "precision": round(precision, 3), "recall": round(tp / int(same.sum()), 3)})
    safe = next(r["threshold"] for r in rows if r["precision"] == 1.0)
    worst_false = float(np.max(np.where(same, -1.0, cosine)))
    details = [
        {"a": a, "b": b, "same": s, "cosine": round(float(c), 3)} for (a, b, s), c in zip(pairs, cosine, strict=True)
    ]
    return {
        "embedder": embedder.name,
        "lowest_exact_threshold": safe,
        "max_false_cosine": round(worst_false, 3),
        "sweep": rows,
        "pairs": details,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sweep the entity-merge threshold on labelled name pairs.")
    parser.add_argument("--pairs", action="store_true", help="also print each pair's cosine")
    args = parser.parse_args(argv)
    result = sweep(default_embedder())
    if not args.pairs:
        result.pop("pairs")
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
