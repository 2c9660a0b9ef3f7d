"""Pattern-completion benchmark: which completion recovers a memory from a partial cue?

One store per conversation: every turn (``"Speaker: text"``, as the baselines index it) is a
stored pattern with a dense view (its embedding) and a lexical view (the Porter stems of all
its words, function words included). Every turn with at least ``MIN_WORDS`` words is cued
five ways (``CUE_KINDS``): with 25 %, 50 % or 75 % of its words removed (the rest kept in
order), or with 25 % or 50 % of its words replaced by words drawn from the whole conversation.
The cue text is embedded again and analysed like a turn.

Methods (``METHODS``): plain cosine of the cue's embedding (the baseline), BM25 on the cue text
(``baselines.BM25Ranker``, its 33 stopwords dropped), BM25 over every stem (the lexical view
below), recall's reciprocal-rank fusion of dense and BM25 rankings, four Hopfield
completions over the dense view alone (iterated ``complete`` at a fixed β; the same on
centred patterns; β = c / spread of the store's similarities; and the cue's ranking fused with
the completed state's), the nearest neighbour in the concatenation of the unit dense vector
and a unit BM25-weighted lexical vector, and the likelihood completion of
``engram.neural.completion`` with the lexical view only and with both views.

Parameters are tuned on the ``tune`` stores (by correct top-1 answers summed over all cue
kinds) and every figure is reported on the other, held-out stores. An answer is right when
its text equals the cued turn's (exact duplicate turns are not misses); ties with other turns
count against a method, except for ``bm25`` and the fusion, which keep ``bm25s``'s order.
``gained`` / ``lost`` count cues a method gets right that the reference gets wrong and the
reverse; ``p`` is the two-sided exact sign test on them.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engram.cognition.retrieval import fuse
from engram.config import RRF_K
from engram.errors import InvalidInput
from engram.eval.baselines import BM25Ranker
from engram.index.lexical import stems, tokens
from engram.neural.completion import Lexicon, build_lexicon, complete_cue, cue_scores, rank_by_completion
from engram.neural.hopfield import complete
from engram.perception.embedders import Embedder

__all__ = [
    "CUE_KINDS",
    "DEFAULT_TUNE",
    "METHODS",
    "REFERENCES",
    "cost_per_query",
    "drop_word_cue",
    "half_word_cue",
    "main",
    "run",
    "swap_word_cue",
]

MIN_WORDS = 8
K = 5  # the cut-off of top-k
CUE_KINDS = {
    "drop25": ("drop", 0.25),
    "drop50": ("drop", 0.5),
    "drop75": ("drop", 0.75),
    "swap25": ("swap", 0.25),
    "swap50": ("swap", 0.5),
}
DEFAULT_TUNE = ("conv-26", "conv-30")
BETAS = (16.0, 32.0, 64.0, 128.0)
SPREADS = (2.0, 4.0, 8.0, 16.0)  # c in β = c / std(stored similarities)
ALPHAS = (0.3, 0.5, 0.7)  # weight of the dense half of the concatenated pattern
KAPPAS = (0.5, 1.0, 2.0, 5.0)
SMOOTHINGS = (0.1, 0.3, 0.5)
FUSION_DEPTH = 100
REFERENCES = ("plain", "bm25", "bm25_all_words")  # every method is compared with these, cue by cue
BM25_K1, BM25_B = 1.2, 0.75


def drop_word_cue(text: str, fraction: float, rng: np.random.Generator) -> str:
    """``text`` without ``fraction`` of its words (the kept count rounded down), in order."""
    words = text.split()
    keep = np.sort(rng.choice(len(words), size=int((1 - fraction) * len(words)), replace=False))
    return " ".join(words[i] for i in keep)


def half_word_cue(text: str, rng: np.random.Generator) -> str:
    """A random half of the words of ``text`` (rounded down), in their original order."""
    return drop_word_cue(text, 0.5, rng)


def swap_word_cue(text: str, fraction: float, pool: Sequence[str], rng: np.random.Generator) -> str:
    """``text`` with ``fraction`` of its words (rounded down) replaced by random words of ``pool``."""
    words = text.split()
    for i in rng.choice(len(words), size=int(fraction * len(words)), replace=False):
        words[i] = pool[int(rng.integers(len(pool)))]
    return " ".join(words)


# --- stores and cues -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Store:
    """One conversation's turns: dense view [n, d], lexical view, and the stem vocabulary."""

    texts: tuple[str, ...]
    dense: np.ndarray
    lexicon: Lexicon
    vocabulary: dict[str, int]
    bm25: BM25Ranker


@dataclass(frozen=True, slots=True)
class Cues:
    """Degraded cues of one kind for one store: texts, embeddings [m, d], feature ids, targets."""

    texts: list[str]
    dense: np.ndarray
    features: list[np.ndarray]
    targets: list[np.ndarray]


def _stems(text: str) -> list[str]:
    # Every word, function words too: a cue that is a fragment of a memory shares them with it,
    # and the background P(w) already discounts the common ones. Dropping the engine's
    # stopwords (as LexicalIndex does) costs 0.20 top-1 on 75 %-removed cues (tune split).
    return stems(tokens(text))


def _ids(text: str, vocabulary: Mapping[str, int]) -> np.ndarray:
    return np.array([vocabulary[s] for s in _stems(text) if s in vocabulary], dtype=np.int64)


def _store(texts: Sequence[str], embedder: Embedder) -> Store:
    vocabulary: dict[str, int] = {}
    for text in texts:
        for stem in _stems(text):
            vocabulary.setdefault(stem, len(vocabulary))
    bags = [_ids(text, vocabulary) for text in texts]
    return Store(
        texts=tuple(texts),
        dense=np.asarray(embedder.embed(list(texts)), dtype=np.float64),
        lexicon=build_lexicon(bags, max(len(vocabulary), 1)),
        vocabulary=vocabulary,
        bm25=BM25Ranker(texts),
    )


def _cues(store: Store, kind: str, embedder: Embedder, rng: np.random.Generator, limit: int | None) -> Cues:
    cued = [i for i, text in enumerate(store.texts) if len(text.split()) >= MIN_WORDS][:limit]
    how, fraction = CUE_KINDS[kind]
    pool = [word for text in store.texts for word in text.split()]
    if how == "drop":
        texts = [drop_word_cue(store.texts[i], fraction, rng) for i in cued]
    else:
        texts = [swap_word_cue(store.texts[i], fraction, pool, rng) for i in cued]
    same: dict[str, list[int]] = {}
    for i, text in enumerate(store.texts):
        same.setdefault(text, []).append(i)
    return Cues(
        texts=texts,
        dense=np.asarray(embedder.embed(texts), dtype=np.float64).reshape(len(texts), -1),
        features=[_ids(text, store.vocabulary) for text in texts],
        targets=[np.asarray(same[store.texts[i]]) for i in cued],
    )


# --- methods: each gives, per cue, the rank of its target (K when it is not in the top K) ---------


def _rank(scores: np.ndarray, targets: np.ndarray) -> int:
    """0-based rank of the best-scoring target; ties with other rows count against it."""
    best = scores[targets].max()
    return min(int(np.sum(scores >= best)) - int(np.sum(scores[targets] >= best)), K)


def _rank_in(order: Sequence[int] | np.ndarray, targets: np.ndarray) -> int:
    hits = [r for r, row in enumerate(order[:K]) if row in targets]
    return hits[0] if hits else K


def _by_scores(score: Callable[[int], np.ndarray], cues: Cues) -> np.ndarray:
    return np.array([_rank(score(j), cues.targets[j]) for j in range(len(cues.targets))])


def _plain(store: Store, cues: Cues, _: float) -> np.ndarray:
    return _by_scores(lambda j: store.dense @ cues.dense[j], cues)


def _bm25(store: Store, cues: Cues, _: float) -> np.ndarray:
    return np.array([_rank_in(store.bm25.rank(text, K), t) for text, t in zip(cues.texts, cues.targets, strict=True)])


def _fused(store: Store, cues: Cues, _: float) -> np.ndarray:
    ranks = []
    for j, text in enumerate(cues.texts):
        dense = store.dense @ cues.dense[j]
        top = np.argsort(-dense, kind="stable")[:FUSION_DEPTH]
        lexical = store.bm25.rank(text, FUSION_DEPTH)
        fused = fuse({"dense": [(int(r), 0.0) for r in top], "lexical": [(r, 0.0) for r in lexical]}, {}, rrf_k=RRF_K)
        ranks.append(_rank_in([seq for seq, _, _ in fused], cues.targets[j]))
    return np.array(ranks)


def _hopfield(store: Store, cues: Cues, beta: float) -> np.ndarray:
    return _by_scores(lambda j: store.dense @ complete(store.dense, cues.dense[j], beta=beta)[1], cues)


def _centred(store: Store, cues: Cues, beta: float) -> np.ndarray:
    mean = store.dense.mean(axis=0)
    stored = _unit(store.dense - mean)
    return _by_scores(lambda j: stored @ complete(stored, cues.dense[j] - mean, beta=beta)[1], cues)


def _spread(store: Store, cues: Cues, c: float) -> np.ndarray:
    similarities = store.dense @ store.dense.T
    off_diagonal = similarities[~np.eye(len(similarities), dtype=bool)]
    return _hopfield(store, cues, c / max(float(off_diagonal.std()), 1e-6))


def _two_step(store: Store, cues: Cues, beta: float) -> np.ndarray:
    def score(j: int) -> np.ndarray:
        first = store.dense @ cues.dense[j]
        second = store.dense @ complete(store.dense, cues.dense[j], beta=beta)[1]
        return 1.0 / (RRF_K + 1 + _positions(first)) + 1.0 / (RRF_K + 1 + _positions(second))

    return _by_scores(score, cues)


def _bm25_words(store: Store, cues: Cues, _: float) -> np.ndarray:
    stored, _idf = _bm25_weights(store.lexicon)
    return _by_scores(lambda j: stored[:, np.unique(cues.features[j])].sum(axis=1), cues)


def _concatenated(store: Store, cues: Cues, alpha: float) -> np.ndarray:
    weights, idf = _bm25_weights(store.lexicon)
    stored = _unit(weights)

    def score(j: int) -> np.ndarray:
        present = np.unique(cues.features[j])
        cue = np.zeros(store.lexicon.n_features)
        cue[present] = idf[present]
        return alpha * (store.dense @ cues.dense[j]) + (1 - alpha) * (stored @ _unit(cue))

    return _by_scores(score, cues)


def _likelihood(store: Store, cues: Cues, kappa: float, smoothing: float) -> np.ndarray:
    # The scores rank_by_completion orders by; ranked here like every other method's scores.
    def score(j: int) -> np.ndarray:
        features = cues.features[j]
        return cue_scores(
            store.dense, cues.dense[j], lexicon=store.lexicon, cue_features=features, kappa=kappa, smoothing=smoothing
        )

    return _by_scores(score, cues)


def _likelihood_lexical(store: Store, cues: Cues, smoothing: float) -> np.ndarray:
    return _likelihood(store, cues, 0.0, smoothing)


def _likelihood_both(store: Store, cues: Cues, kappa_smoothing: tuple[float, float]) -> np.ndarray:
    return _likelihood(store, cues, *kappa_smoothing)


def _positions(scores: np.ndarray) -> np.ndarray:
    """0-based position of every row when sorted by score, best first (ties by row)."""
    positions = np.empty(len(scores), dtype=np.float64)
    positions[np.argsort(-scores, kind="stable")] = np.arange(len(scores))
    return positions


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def _bm25_weights(lexicon: Lexicon) -> tuple[np.ndarray, np.ndarray]:
    """BM25 term weights [n, f] of the stored patterns (dense: the stores are small) and the idf [f]."""
    n = lexicon.n_patterns
    df = np.diff(lexicon.starts).astype(np.float64)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    lengths = lexicon.lengths[lexicon.rows] / max(float(lexicon.lengths.mean()), 1e-12)
    tf = lexicon.counts
    weights = idf[lexicon.features] * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * lengths))
    rows = np.zeros((n, lexicon.n_features))
    rows[lexicon.rows, lexicon.features] = weights
    return rows, idf


Method = Callable[[Store, Cues, Any], np.ndarray]
# name -> (method, grid to tune on the tune stores; one value means nothing is tuned)
METHODS: dict[str, tuple[Method, tuple[Any, ...]]] = {
    "plain": (_plain, (None,)),
    "bm25": (_bm25, (None,)),
    "bm25_all_words": (_bm25_words, (None,)),
    "fused_dense_bm25": (_fused, (None,)),
    "hopfield_dense": (_hopfield, BETAS),
    "hopfield_centred": (_centred, BETAS),
    "hopfield_spread_beta": (_spread, SPREADS),
    "hopfield_two_step_rrf": (_two_step, BETAS),
    "concatenated_cosine": (_concatenated, ALPHAS),
    "likelihood_lexical": (_likelihood_lexical, SMOOTHINGS),
    "likelihood": (_likelihood_both, tuple((k, m) for k in KAPPAS for m in SMOOTHINGS)),
}


# --- statistics ------------------------------------------------------------------------------


def _wilson(successes: int, total: int, z: float = 1.96) -> list[float]:
    """95 % Wilson score interval of a proportion."""
    if not total:
        return [0.0, 1.0]
    share = successes / total
    centre = (share + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return [round(centre - half, 4), round(centre + half, 4)]


def _sign_test(gained: int, lost: int) -> float:
    """Two-sided exact sign test: P(a split at least this uneven | no difference)."""
    trials = gained + lost
    if not trials:
        return 1.0
    tail = sum(math.comb(trials, i) for i in range(min(gained, lost) + 1))
    return min(1.0, 2 * tail / 2**trials)


def _paired(right: np.ndarray, reference: np.ndarray) -> dict[str, Any]:
    gained, lost = int(np.sum(right & ~reference)), int(np.sum(~right & reference))
    return {"gained": gained, "lost": lost, "p": float(f"{_sign_test(gained, lost):.3g}")}


def _summary(ranks: np.ndarray, references: Mapping[str, np.ndarray]) -> dict[str, Any]:
    right = ranks == 0
    return {
        "top1": round(float(right.mean()), 4),
        "top1_ci95": _wilson(int(right.sum()), len(right)),
        f"top{K}": round(float(np.mean(ranks < K)), 4),
    } | {f"vs_{name}": _paired(right, reference == 0) for name, reference in references.items()}


# --- the run ---------------------------------------------------------------------------------


def _ranks(method: Method, value: Any, pairs: Sequence[tuple[Store, Cues]]) -> np.ndarray:
    return np.concatenate([method(store, cues, value) for store, cues in pairs])


def _tune(method: Method, grid: tuple[Any, ...], tune_sets: Mapping[str, list[tuple[Store, Cues]]]) -> Any:
    """The grid value with the most right top-1 answers over every cue kind of the tune stores."""
    if len(grid) == 1:
        return grid[0]
    right = [sum(int(np.sum(_ranks(method, value, pairs) == 0)) for pairs in tune_sets.values()) for value in grid]
    return grid[int(np.argmax(right))]


def run(
    conversations: Mapping[str, Sequence[str]],
    embedder: Embedder,
    *,
    tune: Collection[str],
    kinds: Sequence[str] = tuple(CUE_KINDS),
    methods: Sequence[str] = tuple(METHODS),
    seed: int = 0,
    limit: int | None = None,
) -> dict[str, Any]:
    """Tune every method on the ``tune`` conversations and report it on the others.

    Args:
        conversations: name -> the texts of its turns; each conversation is one store.
        embedder: gives unit vectors for the turns and the cues.
        tune: names of the conversations to tune on; at least one must be left to report on.
        kinds: cue kinds (keys of ``CUE_KINDS``).
        methods: method names (keys of ``METHODS``); the ``REFERENCES`` always run.
        seed: seeds the cues.
        limit: cue at most this many turns per conversation (the first eligible ones).

    Returns:
        ``{"tune", "held_out", "turns", "tuned": {method: value}, "results": {kind: {"cues",
        "methods": {method: {"top1", "top1_ci95", "top5", "vs_<reference>"...}}}}}``.
    """
    held_out = [name for name in conversations if name not in tune]
    if not held_out or not set(tune) & set(conversations):
        raise InvalidInput("need at least one conversation to tune on and one to report on")
    unknown = (set(kinds) - set(CUE_KINDS)) | (set(methods) - set(METHODS))
    if unknown:
        raise InvalidInput(f"unknown cue kinds or methods: {sorted(unknown)}")
    rng = np.random.default_rng(seed)
    stores = {name: _store(texts, embedder) for name, texts in conversations.items()}
    sets = {
        kind: {name: (stores[name], _cues(stores[name], kind, embedder, rng, limit)) for name in stores}
        for kind in kinds
    }
    names = list(dict.fromkeys([*REFERENCES, *methods]))
    tune_sets = {kind: [pairs[name] for name in pairs if name in tune] for kind, pairs in sets.items()}
    tuned = {name: _tune(*METHODS[name], tune_sets) for name in names}
    results: dict[str, Any] = {}
    for kind, pairs in sets.items():
        held = [pairs[name] for name in held_out]
        ranks = {name: _ranks(METHODS[name][0], tuned[name], held) for name in names}
        results[kind] = {
            "cues": len(ranks["plain"]),
            "methods": {name: _summary(r, {ref: ranks[ref] for ref in REFERENCES}) for name, r in ranks.items()},
        }
    return {
        "tune": sorted(set(tune) & set(conversations)),
        "held_out": held_out,
        "turns": {name: len(texts) for name, texts in conversations.items()},
        "tuned": {name: value for name, value in tuned.items() if value is not None},
        "results": results,
    }


def cost_per_query(n: int, *, dim: int = 384, queries: int = 30, seed: int = 0) -> dict[str, float]:
    """Median milliseconds per cue on a synthetic store of ``n`` patterns (float32, 12 stems each).

    ``plain_top10``: cosine and a top-10 cut, the baseline; ``rank_top10``: ``rank_by_completion``
    with k = 10; ``complete``: ``complete_cue`` with the completed dense and lexical state.
    """
    rng = np.random.default_rng(seed)
    stored = _unit(rng.standard_normal((n, dim))).astype(np.float32)
    n_features = max(2 * n, 1000)
    zipf = np.minimum(rng.zipf(1.3, size=(n, 12)), n_features) - 1
    lexicon = build_lexicon(list(zipf), n_features)

    def plain(cue: np.ndarray, _: np.ndarray) -> object:
        return np.argpartition(-(stored @ cue.astype(np.float32)), 10)[:10]

    def rank(cue: np.ndarray, features: np.ndarray) -> object:
        return rank_by_completion(stored, cue, lexicon=lexicon, cue_features=features, k=10)

    def completed(cue: np.ndarray, features: np.ndarray) -> object:
        return complete_cue(stored, cue, lexicon=lexicon, cue_features=features)

    calls = {"plain_top10": plain, "rank_top10": rank, "complete": completed}
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(queries + 1):  # the first round warms up and is not counted
        cue, features = rng.standard_normal(dim), zipf[int(rng.integers(n)), :6]
        for name, call in calls.items():
            start = time.perf_counter()
            call(cue, features)
            timings[name].append((time.perf_counter() - start) * 1000)
    return {name: round(float(np.median(values[1:])), 3) for name, values in timings.items()}


def _conversations(path: Path) -> dict[str, list[str]]:
    from engram.eval import locomo

    return {
        conv.sample_id: [locomo.baseline_text(item) for item in locomo.events_of(conv)] for conv in locomo.load(path)
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m engram.eval.completion --data locomo_dev5.json``: print the JSON comparison."""
    parser = argparse.ArgumentParser(
        prog="python -m engram.eval.completion",
        description="Plain similarity, BM25 and Hopfield completions on degraded cues of LoCoMo turns.",
    )
    parser.add_argument("--data", type=Path, required=True, help="a LoCoMo JSON file (e.g. locomo_dev5.json)")
    parser.add_argument("--tune", default=",".join(DEFAULT_TUNE), help="conversations to tune on (comma-separated)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the cues")
    parser.add_argument("--limit", type=int, default=None, help="cue at most this many turns per conversation")
    parser.add_argument("--cost-sizes", default="1000,20000", help="store sizes for the cost per query ('' skips)")
    args = parser.parse_args(argv)
    from engram.perception.embedders import CachedEmbedder, default_embedder

    started = time.perf_counter()
    report = run(
        _conversations(args.data),
        CachedEmbedder(default_embedder()),
        tune=args.tune.split(","),
        seed=args.seed,
        limit=args.limit,
    )
    report["cost_ms_per_query"] = {size: cost_per_query(int(size)) for size in args.cost_sizes.split(",") if size}
    report["data"] = str(args.data)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
