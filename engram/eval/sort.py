"""Sequence Order Recall (SORT, Pink et al. 2024) on Book-SORT source texts, answered by ``Memory.order``.

Trials are made here following the dataset card (they are derived, not the official set):
an excerpt of ``L_E`` words starting on a sentence boundary is stored as a stream of events
(sentences grouped into ~``CHUNK_WORDS``-word events, no timestamps: ingest order is the only
clock); two segments of ``L_S`` words start on sentence boundaries, their distance falls in one
of four bins, and they are presented in random order. The answer is which came first.
Chance is 0.5.
"""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from engram.interfaces.api import Memory
from engram.perception.embedders import Embedder

__all__ = ["bin_edges", "excerpt", "run", "sentences", "trials"]

CHUNK_WORDS = 50
EXCERPT_WORDS = (2500, 10000)
SEGMENT_WORDS = (20, 50)
PAIRS_PER_BIN = 25
SEED = 2024
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z])")
SKIP_FOR_LONG = {"73017"}  # upstream leaves Pomona out of the long-excerpt conditions


def body(text: str) -> str:
    """The book without the Project Gutenberg header and footer."""
    start = text.find("*** START OF")
    end = text.find("*** END OF")
    text = text[text.find("\n", start) + 1 : end] if start >= 0 and end > start else text
    return " ".join(text.split())


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def excerpt(sents: list[str], words: int, rng: random.Random) -> list[str]:
    """Consecutive sentences from a random start, at least ``words`` words long (if the book has them)."""
    remaining, last_start = 0, 0
    for i in range(len(sents) - 1, -1, -1):  # the last sentence from which ``words`` words remain
        remaining += len(sents[i].split())
        if remaining >= words:
            last_start = i
            break
    start = rng.randrange(0, last_start + 1)
    out: list[str] = []
    count = 0
    for s in sents[start:]:
        out.append(s)
        count += len(s.split())
        if count >= words:
            break
    return out


def bin_edges(excerpt_words: int, segment_words: int) -> list[float]:
    if excerpt_words <= 2500:
        return [segment_words, excerpt_words / 4, excerpt_words / 3, excerpt_words / 2, excerpt_words / 0.8]
    return [segment_words, 1000, excerpt_words / 4, excerpt_words / 2, excerpt_words / 0.8]


def trials(
    sents: list[str], excerpt_words: int, segment_words: int, rng: random.Random, pairs: int
) -> list[dict[str, Any]]:
    """Segment pairs per distance bin: {bin, first, second, present_first_first}."""
    words = " ".join(sents).split()
    starts, at = [], 0
    for s in sents:
        starts.append(at)
        at += len(s.split())
    starts = [s for s in starts if s + segment_words <= len(words)]
    edges = bin_edges(excerpt_words, segment_words)
    out = []
    for b in range(4):
        lo, hi = edges[b], edges[b + 1]
        candidates = [(i, j) for i in starts for j in starts if lo <= j - i < hi]
        for i, j in rng.sample(candidates, min(pairs, len(candidates))):
            out.append(
                {
                    "bin": b + 1,
                    "first": " ".join(words[i : i + segment_words]),
                    "second": " ".join(words[j : j + segment_words]),
                    "present_first_first": rng.random() < 0.5,
                }
            )
    return out


def _events(sents: list[str]) -> list[dict[str, Any]]:
    chunks, current = [], []
    for s in sents:
        current.append(s)
        if sum(len(c.split()) for c in current) >= CHUNK_WORDS:
            chunks.append(" ".join(current))
            current = []
    if current:
        chunks.append(" ".join(current))
    return [{"text": c} for c in chunks]


def run(
    data: Path, *, embedder: Embedder, workdir: Path, limit: int | None = None, progress: bool = True
) -> dict[str, Any]:
    """Accuracy of ``Memory.order`` per (excerpt length, segment length, distance bin)."""
    from tqdm import tqdm

    rng = random.Random(SEED)
    books = sorted((data / "pg_full_text").glob("*.txt"))[:limit]
    correct: dict[str, list[int]] = defaultdict(list)
    started = time.perf_counter()
    with Memory(workdir / "sort", embedder=embedder) as mem:
        for book in tqdm(books, desc="sort", unit="book", disable=not progress):
            sents = sentences(body(book.read_text(encoding="utf-8", errors="replace")))
            for length in EXCERPT_WORDS:
                if length > 2500 and book.stem.split("-")[0] in SKIP_FOR_LONG:
                    continue
                part = excerpt(sents, length, rng)
                namespace = f"{book.stem}-{length}"
                mem.remember_many(_events(part), namespace=namespace)
                for segment in SEGMENT_WORDS:
                    for trial in trials(part, length, segment, rng, PAIRS_PER_BIN):
                        a, b = (
                            (trial["first"], trial["second"])
                            if trial["present_first_first"]
                            else (trial["second"], trial["first"])
                        )
                        answer = mem.order(a, b, namespace=namespace).first
                        right = answer == ("a" if trial["present_first_first"] else "b")
                        correct[f"L_E={length} L_S={segment} bin={trial['bin']}"].append(int(right))
                        correct[f"bin={trial['bin']}"].append(int(right))
    cells = {key: {"accuracy": sum(v) / len(v), "trials": len(v)} for key, v in sorted(correct.items())}
    total = [x for key, v in correct.items() if key.startswith("bin=") for x in v]
    return {
        "benchmark": "sort",
        "derived_trials": True,
        "accuracy": sum(total) / len(total) if total else None,
        "trials": len(total),
        "cells": cells,
        "seconds": round(time.perf_counter() - started, 2),
        "embedder": embedder.name,
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "## sort (derived Book-SORT trials, answered by Memory.order)",
        "",
        f"{results['trials']} trials, accuracy {results['accuracy']:.3f} (chance 0.5), {results['seconds']} s.",
        "",
        "| condition | accuracy | trials |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | {v['accuracy']:.3f} | {v['trials']} |" for k, v in results["cells"].items()]
    return "\n".join(lines) + "\n"
