"""Speed and scale: ingest rate, recall latency and bytes per event, beside a plain baseline.

Synthetic chat-like events (about 25 words, from a seeded vocabulary and templates) are
ingested through ``Memory.remember_many`` into one store that grows through the requested
sizes. At each size Engram is measured beside a brute-force baseline in the same process:

- ingest: Engram's events/s against the baseline's (embedding the same batch, appending the
  vectors and texts to two flat files, fsync per batch). The vectors are the very ones
  Engram's embedder produced (recorded on their way through), so no text is embedded twice;
  the baseline's ingest time is the embedding time plus its own writes.
- recall latency p50/p95 over the queries, query embedding included on both sides; the
  baseline is an exact cosine search in numpy (one matrix-vector product and a partial sort).
- bytes per event on disk: the store directory against the baseline's two files.

Ratios are Engram / baseline. ``overlap@k`` is the mean share of the exact dense top-k that
Engram also returns; Engram fuses lexical and other signals, so it is a consistency figure,
not a quality score.
"""

from __future__ import annotations

import json
import os
import platform
import random
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["run", "synthetic_events", "synthetic_queries", "to_markdown", "write"]

DEFAULT_SIZES = (10_000, 100_000)
DEFAULT_QUERIES = 200
BATCH_SIZE = 500
TOP_K = 10
WARMUP_QUERIES = 5
NAMESPACE = "speed"
SEED = 20240501
TURNS_PER_SESSION = 20
START = datetime(2023, 1, 1, 9, 0, tzinfo=timezone.utc)

_NAMES = (
    "Maya Jonas Lena Tomas Ines Ravi Chen Amara Oskar Yuki Nadia Pablo Greta Idris Sofia Malik Hanna Arjun "
    "Leila Felix Noor Mateo Elif Kofi Ingrid Dara Zainab Emil Rosa Tariq Aiko Bruno Selin Omar Vera Kai"
).split()
_PLACES = (
    "Lisbon Porto Berlin Leipzig Hamburg Kyoto Osaka Nairobi Lima Oslo Krakow Seville Dublin Tunis Hanoi "
    "Montreal Bergen Tbilisi Valparaiso Tallinn Marseille Ghent Cusco Bologna Izmir Galway Sapporo"
).split()
_THINGS = (
    "bicycle teapot guitar camera apartment garden kayak laptop violin tent recipe novel sweater lantern "
    "telescope notebook skateboard painting backpack bookshelf puzzle aquarium drone piano scooter"
).split()
_ACTIVITIES = (
    "climbing baking running sailing painting knitting hiking swimming pottery chess gardening cycling "
    "photography surfing dancing fishing woodworking birdwatching journaling skiing yoga tennis"
).split()
_PETS = ("dog cat parrot rabbit hamster tortoise ferret goldfish gecko pony").split()
_PET_NAMES = ("Pico Miso Luna Biscuit Pepper Olive Mango Tofu Ziggy Nacho Pretzel Juniper Waffles Clover").split()
_JOBS = (
    "nurse",
    "architect",
    "baker",
    "data analyst",
    "teacher",
    "plumber",
    "translator",
    "pilot",
    "chef",
    "librarian",
    "carpenter",
    "journalist",
    "dentist",
    "gardener",
    "pharmacist",
    "electrician",
    "designer",
)
_ADJECTIVES = (
    "old new tiny huge noisy quiet bright rusty shiny cosy strange lovely expensive cheap "
    "heavy fragile colourful wooden"
).split()
_FEELINGS = ("thrilled nervous exhausted relieved curious proud homesick restless grateful amused").split()
_TIMES = (
    "last weekend",
    "on Tuesday",
    "in early spring",
    "after the holidays",
    "this morning",
    "back in March",
    "two weeks ago",
    "over the summer",
    "before the storm",
    "during the festival",
)
_TEMPLATES = (
    "{name} said the {adj} {thing} from {place} finally arrived {time}, and {name2} wants to borrow it for "
    "{activity} next month.",
    "I started {activity} classes in {place} {time}; the teacher, {name}, says I am getting better but my "
    "{thing} keeps breaking.",
    "{name} adopted a {pet} called {petname} {time}. It sleeps on the {adj} {thing} and hates the trams in {place}.",
    "My cousin {name} moved to {place} {time} to work as a {job}, and {pronoun} already feels {feeling} about it.",
    "We booked a trip to {place} {time} with {name}; the plan is {activity} every morning and a {adj} {thing} "
    "museum after lunch.",
    "Honestly I felt {feeling} {time} when {name} sold the {adj} {thing} we used for {activity} near {place}.",
    "{name} quit the {job} job {time} and now spends whole days {activity}, which makes {name2} a bit {feeling}.",
    "Remind me to call {name} about the {thing}; {pronoun} left it in {place} {time} after the {activity} trip.",
)
_TAILS = (
    "",
    "Anyway, say hi to {name} for me.",
    "It still makes me laugh.",
    "{name2} thinks it is a {adj} idea.",
    "More on that when we meet in {place}.",
)
_QUESTIONS = (
    "What did {name} say about the {thing}?",
    "Where did {name} move to?",
    "Who adopted a {pet} called {petname}?",
    "When did I start {activity} classes in {place}?",
    "What job did {name} have before {activity}?",
    "Which trip to {place} did we book with {name}?",
    "Why did I feel {feeling} about the {thing}?",
    "What is the name of {name}'s {pet}?",
)


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        name=rng.choice(_NAMES),
        name2=rng.choice(_NAMES),
        place=rng.choice(_PLACES),
        thing=rng.choice(_THINGS),
        activity=rng.choice(_ACTIVITIES),
        pet=rng.choice(_PETS),
        petname=rng.choice(_PET_NAMES),
        job=rng.choice(_JOBS),
        adj=rng.choice(_ADJECTIVES),
        feeling=rng.choice(_FEELINGS),
        time=rng.choice(_TIMES),
        pronoun=rng.choice(("she", "he", "they")),
    )


def synthetic_events(start: int, stop: int, *, seed: int = SEED) -> list[dict[str, Any]]:
    """Events ``start`` to ``stop - 1`` of the seeded stream (about 25 words each), as ``remember_many`` items.

    Event ``i`` is the same whatever the range it is generated in.
    """
    events = []
    for i in range(start, stop):
        rng = random.Random(seed * 1_000_003 + i)
        text = _fill(rng.choice(_TEMPLATES) + " " + rng.choice(_TAILS), rng).strip()
        events.append(
            {
                "text": text,
                "speaker": rng.choice(_NAMES),
                "session": f"s{i // TURNS_PER_SESSION}",
                "occurred_at": START + timedelta(minutes=7 * i),
                "metadata": {"i": i},
            }
        )
    return events


def synthetic_queries(n: int, *, seed: int = SEED) -> list[str]:
    """``n`` seeded questions about the kind of facts the events mention."""
    rng = random.Random(seed ^ 0x5EED)
    return [_fill(rng.choice(_QUESTIONS), rng) for _ in range(n)]


class _RecordingEmbedder:
    """Passes calls to the real embedder and keeps what it returned while recording is on.

    It gives the baseline the very vectors Engram stored (whatever text Engram chose to
    embed for an event), and the time spent computing them.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.recording = False
        self._outputs: list[np.ndarray] = []
        self._seconds = 0.0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        out = self.inner.embed(texts)
        if self.recording:
            self._seconds += time.perf_counter() - started
            self._outputs.append(out)
        return out

    def take(self, n: int) -> tuple[np.ndarray, float]:
        """The ``n`` vectors recorded since the last call, in order, and the seconds spent on them.

        Raises:
            RuntimeError: the store did not embed exactly one vector per event.
        """
        matrix = np.concatenate(self._outputs) if self._outputs else np.zeros((0, self.dim), np.float32)
        seconds, self._outputs, self._seconds = self._seconds, [], 0.0
        if len(matrix) != n:
            raise RuntimeError(f"expected {n} embedded events, recorded {len(matrix)}")
        return matrix.astype(np.float32, copy=False), seconds


class _Baseline:
    """Brute-force exact cosine search over a numpy matrix, persisted as two flat files."""

    def __init__(self, directory: Path, dim: int) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ids: list[str] = []
        self._rows = np.zeros((1024, dim), dtype=np.float32)  # grown by doubling: amortised O(1) append

    @property
    def matrix(self) -> np.ndarray:
        return self._rows[: len(self.ids)]

    def add(self, ids: Sequence[str], events: Sequence[dict[str, Any]], vectors: np.ndarray) -> float:
        """Append a batch durably; return the seconds it took."""
        started = time.perf_counter()
        with open(self.directory / "vectors.f32", "ab") as raw:
            raw.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
            raw.flush()
            os.fsync(raw.fileno())
        with open(self.directory / "events.jsonl", "a", encoding="utf-8") as lines:
            for event_id, event in zip(ids, events, strict=True):
                row = {"id": event_id, **event, "occurred_at": event["occurred_at"].isoformat()}
                lines.write(json.dumps(row, ensure_ascii=False) + "\n")
            lines.flush()
            os.fsync(lines.fileno())
        n = len(self.ids)
        if n + len(ids) > len(self._rows):
            grown = np.zeros((max(2 * len(self._rows), n + len(ids)), self._rows.shape[1]), dtype=np.float32)
            grown[:n] = self._rows[:n]
            self._rows = grown
        self._rows[n : n + len(ids)] = vectors
        self.ids.extend(ids)
        return time.perf_counter() - started

    def search(self, query: np.ndarray, k: int) -> list[str]:
        """Ids of the ``k`` rows with the highest cosine (rows and query are unit vectors)."""
        scores = self.matrix @ query
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        return [self.ids[i] for i in top[np.argsort(-scores[top])]]

    def bytes(self) -> int:
        return _dir_bytes(self.directory)


def _dir_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def _percentiles(seconds: Sequence[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000.0
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": float(ms.mean())}


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def run(
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    embedder: Any,
    workdir: Path,
    queries: int = DEFAULT_QUERIES,
    progress: bool = True,
) -> dict[str, Any]:
    """Measure Engram against the brute-force baseline at each size (ascending); return the results.

    Args:
        sizes: store sizes in events; the store grows from one to the next.
        embedder: the embedder both sides use (Engram through ``Memory``; the baseline directly).
        workdir: an empty directory for the two stores.
        queries: recall queries timed at each size.
        progress: show a progress bar while ingesting.
    """
    from engram import Memory
    from engram.perception.segmentation import discourse_prototypes

    sizes = sorted(set(int(s) for s in sizes))
    workdir = Path(workdir)
    recorder = _RecordingEmbedder(embedder)
    discourse_prototypes(recorder)  # the segmenter's 60 prototype lines, embedded once, before timing
    baseline = _Baseline(workdir / "baseline", embedder.dim)
    store_dir = workdir / "engram"
    questions = synthetic_queries(queries)
    rows = []
    with Memory(store_dir, embedder=recorder) as mem:
        for size in sizes:
            row = _grow(mem, recorder, baseline, size, progress=progress)
            row.update(_time_recall(mem, embedder, baseline, questions))
            row["bytes_per_event"] = _dir_bytes(store_dir) / size
            row["baseline_bytes_per_event"] = baseline.bytes() / size
            row["bytes_ratio"] = _ratio(row["bytes_per_event"], row["baseline_bytes_per_event"])
            rows.append(row)
    return {
        "benchmark": "speed",
        "embedder": embedder.name,
        "dim": embedder.dim,
        "ingest": _ingest_note(embedder),
        "batch_size": BATCH_SIZE,
        "queries": queries,
        "k": TOP_K,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "rows": rows,
    }


def _ingest_note(embedder: Any) -> str:
    from engram.perception.embedders import CachedEmbedder

    note = "every event through Memory.remember_many (no precomputed vectors)"
    if isinstance(embedder, CachedEmbedder):
        return note + "; vectors served by CachedEmbedder, so texts embedded in an earlier run cost a cache lookup"
    return note + ", embedded by the model on the way in"


def _grow(mem: Any, recorder: _RecordingEmbedder, baseline: _Baseline, size: int, *, progress: bool) -> dict[str, Any]:
    """Ingest events up to ``size`` into both sides; return the ingest figures for this segment."""
    from tqdm import tqdm

    have = len(baseline.ids)
    engram_s = embed_s = baseline_s = 0.0
    with tqdm(total=size - have, unit="event", desc=f"ingest to {size:,}", disable=not progress) as bar:
        for start in range(have, size, BATCH_SIZE):
            batch = synthetic_events(start, min(start + BATCH_SIZE, size))
            recorder.recording = True
            started = time.perf_counter()
            stored = mem.remember_many(batch, namespace=NAMESPACE)
            engram_s += time.perf_counter() - started
            recorder.recording = False
            vectors, seconds = recorder.take(len(batch))
            embed_s += seconds
            baseline_s += seconds + baseline.add([e.id for e in stored], batch, vectors)
            bar.update(len(batch))
    added = size - have
    return {
        "events": size,
        "ingested": added,
        "ingest_events_per_s": added / engram_s,
        "ingest_embed_share": embed_s / engram_s,
        "baseline_ingest_events_per_s": added / baseline_s,
        "ingest_ratio": _ratio(added / engram_s, added / baseline_s),
    }


def _time_recall(mem: Any, embedder: Any, baseline: _Baseline, questions: Sequence[str]) -> dict[str, Any]:
    """Recall latency of both sides over the same questions, interleaved; and top-k overlap."""
    for question in questions[:WARMUP_QUERIES]:
        mem.recall(question, namespace=NAMESPACE, k=TOP_K)
        baseline.search(embedder.embed([question])[0], TOP_K)
    engram_s, baseline_s, overlap = [], [], []
    for question in questions:
        started = time.perf_counter()
        hits = mem.recall(question, namespace=NAMESPACE, k=TOP_K)
        engram_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        exact = baseline.search(embedder.embed([question])[0], TOP_K)
        baseline_s.append(time.perf_counter() - started)
        overlap.append(len({h.event.id for h in hits} & set(exact)) / len(exact))
    ours, theirs = _percentiles(engram_s), _percentiles(baseline_s)
    return {
        "recall": ours,
        "baseline_recall": theirs,
        "recall_p50_ratio": _ratio(ours["p50_ms"], theirs["p50_ms"]),
        "recall_p95_ratio": _ratio(ours["p95_ms"], theirs["p95_ms"]),
        f"overlap@{TOP_K}": float(np.mean(overlap)),
    }


def to_markdown(results: dict[str, Any]) -> str:
    """The results as a Markdown report."""
    k = results["k"]
    lines = [
        "## speed",
        "",
        f"Embedder `{results['embedder']}` ({results['dim']}-d); {results['queries']} recall queries per size, "
        f"k = {k}; batches of {results['batch_size']}. Machine: {results['machine']['cpus']} CPUs, "
        f"{results['machine']['platform']}, Python {results['machine']['python']}.",
        f"Ingest: {results['ingest']}.",
        "Baseline: the same vectors in a numpy matrix, exact cosine search, events appended to flat files "
        "(fsync per batch). Ratios are Engram / baseline: above 1 means Engram is higher (faster ingest, "
        "slower recall, more bytes).",
        "",
        "| events | ingest ev/s | baseline ev/s | ratio | embedding share | recall p50 ms | p95 ms "
        f"| baseline p50 / p95 ms | p50 ratio | p95 ratio | bytes/event | baseline | ratio | overlap@{k} |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['events']:,} | {r['ingest_events_per_s']:,.0f} | {r['baseline_ingest_events_per_s']:,.0f} "
            f"| {r['ingest_ratio']:.2f} | {r['ingest_embed_share']:.0%} | {r['recall']['p50_ms']:.1f} "
            f"| {r['recall']['p95_ms']:.1f} | {r['baseline_recall']['p50_ms']:.1f} / "
            f"{r['baseline_recall']['p95_ms']:.1f} | {r['recall_p50_ratio']:.2f} | {r['recall_p95_ratio']:.2f} "
            f"| {r['bytes_per_event']:,.0f} | {r['baseline_bytes_per_event']:,.0f} | {r['bytes_ratio']:.2f} "
            f"| {r[f'overlap@{k}']:.2f} |"
        )
    lines += ["", "Ingest figures at each size are for the events added since the previous size."]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], out_dir: Path) -> str:
    """Write ``speed.json`` and ``speed.md`` into ``out_dir``; return the Markdown."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "speed.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    markdown = to_markdown(results)
    (out_dir / "speed.md").write_text(markdown, encoding="utf-8")
    return markdown
