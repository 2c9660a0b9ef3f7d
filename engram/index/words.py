"""Related words: a namespace's vocabulary placed in the embedding model's space.

A word of the query that memory does not hold cues the stored words whose own embeddings lie
near it ("instruments" cues "clarinet" and "violin", "martial arts" cues "taekwondo", "pets"
cues "cat"): spreading activation in a semantic network (Collins & Loftus 1975), with the
embedding model as the network. Recall scores events by BM25 over those related words, each
weighted by its cosine to the query word, as a ranking of its own (``recall``), so an event
that names an instance of what the query asks about is found though it shares no word with
the query. A word memory does hold is matched as it is: expanding it only blurs it ("Priya"
cues every other name, and the interference paradigm's recognition fell from 1.00 to 0.75).

Each stem of the vocabulary is embedded once, as the first word seen with it, the first time
recall needs it; single words embed fast (about 7,800 a second with the default model on 2
cores, so LoCoMo's 3,600-word vocabulary costs half a second). Like the HNSW graph, the
vectors are saved beside the store (``save``: every ``SAVE_EVERY`` new words and when the
``Memory`` closes) so that a reopened store does not embed its vocabulary again; the file is
derived data, used only if its words are a prefix of the vocabulary read from the events,
and an erasure deletes it with the graph. Vectors are held at float16 precision (1,536
bytes a word in memory as float32 for fast products, 768 on disk); LongMemEval's 13.6k
distinct user turns hold 21.6k distinct words.

Measured on LoCoMo dev recall@10, overall (multi-hop, temporal, open-domain, single-hop);
without the ranking 0.774 (0.505, 0.887, 0.434, 0.859). BM25 over the plain events at weight
0.5: threshold 0.4: 0.785 (0.527); 0.45: 0.782; 0.5: 0.786 (0.524, 0.900, 0.445, 0.868); 0.55:
0.778; 0.6: 0.781; weight 0.3: 0.782; 1.0: 0.778; 5 related words a query word: 0.782; 10:
0.786; 25: 0.787; the query's own words counted in this ranking too: 0.782. Over each event
read after the event before it (the default, as the in-context ranking): 0.787 (0.529, 0.906,
0.445, 0.866); both rankings at once: 0.782. The differences past the first step are within
run-to-run noise (about ± 0.004). LongMemEval_S dev recall_all@5 0.962 → 0.966. Swept again
once the topic ranking and the demotion of questions were in (overall, multi-hop): weight 0.3:
0.802 (0.537); 0.5: 0.802 (0.537); 0.8: 0.809 (0.542, the default); 1.0: 0.804 (0.549); 1.3:
0.792; threshold 0.45 at 0.5: 0.803, at 0.8: 0.803. LongMemEval_S at 0.8: 0.966 (multi-session
0.933, one question fewer; preference 1.000, one more; event recall 0.942 → 0.952). Cueing
with the query's words that memory does not hold only (the default): 0.805 (0.538) at weights
0.5 to 1.0, against 0.809 with every word; it keeps recognition under interference at 1.00.
At that point the ranking is within noise on both dev sets (``engram bench ablation``: LoCoMo
0.806 without it; it fires on 149 of 760 questions): the topic ranking and the demotion of
questions took over most of what it first added. It is kept for the vocabulary gap it is
built for, a query word memory never heard.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engram.config import ANN_THRESHOLD

__all__ = ["PER_WORD", "RELATED", "WordSpace", "saved_files"]

RELATED = 0.5  # the least cosine between a query word and a stored word that cues it
PER_WORD = 10  # the most related words one query word cues
ASKED = 4096  # query words whose embeddings are kept
SAVE_EVERY = 1000  # new words embedded between saves of the file
# From this many words on, a query word's neighbours come from an HNSW graph (usearch, as for
# events): 4 query words against 50,000 stored ones cost 9 ms exactly.
GRAPH_FROM = ANN_THRESHOLD

EmbedMany = Callable[[list[str]], np.ndarray]


def saved_files(ann_path: Path) -> tuple[Path, Path, Path, Path]:
    """The word vectors' file, the words' HNSW graph and their temporary files, saved beside a
    namespace's event graph ``ann_path``."""
    vectors = ann_path.with_suffix(".words.npz")
    graph = vectors.with_suffix(".usearch")
    return vectors, graph, _tmp(vectors), _tmp(graph)


def _tmp(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


class WordSpace:
    """Embeddings of a namespace's words (one per stem), grown as the vocabulary grows."""

    def __init__(self, ann_path: Path | None = None) -> None:
        """With ``ann_path`` (the namespace's event graph), the words are saved beside it."""
        self.stems: list[str] = []
        files = saved_files(ann_path) if ann_path is not None else None
        self.path = files[0] if files else None  # where the vectors are saved (None: never saved)
        self._graph_file = files[1] if files else None
        self._saved = 0  # stems the file holds
        self._restored = ann_path is None  # the file is read once, at the first catch-up
        self._asked: dict[str, np.ndarray] = {}  # query words, as embedded (at most ASKED)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._graph: Any = None  # the HNSW graph over the rows, once there are GRAPH_FROM of them
        self._graph_saved = 0  # rows the saved graph holds
        self._lock = threading.Lock()  # two recalls in threads may both find new words

    def __len__(self) -> int:
        return len(self.stems)

    def catch_up(self, surface: Mapping[str, str], embed: EmbedMany) -> None:
        """Embed the stems of ``surface`` (stem -> word, insertion-ordered, only ever growing)
        that are not yet here, after taking what the saved file holds of them."""
        with self._lock:
            if not self._restored:
                self._restored = True
                self._restore(surface)
                self._grow_graph()
            if len(surface) <= len(self.stems):
                return
            new = list(surface)[len(self.stems) :]
            dim = self._matrix.shape[1] if len(self._matrix) else None
            vectors = _embed_words([surface[stem] for stem in new], embed, dim)
            matrix = np.concatenate([self._matrix, vectors]) if len(self._matrix) else vectors
            self.stems.extend(new)
            self._matrix = matrix
            self._grow_graph()
            if len(self.stems) - self._saved >= SAVE_EVERY:
                self._save()

    def _grow_graph(self) -> None:
        """Build the graph once the vocabulary is large (from the saved file if it fits), then
        add the rows it lacks."""
        n = len(self._matrix)
        if n < GRAPH_FROM:
            return
        if self._graph is None:
            self._graph = self._load_graph(n) or _new_graph(self._matrix.shape[1])
        start = len(self._graph)
        if start < n:
            self._graph.add(np.arange(start, n), self._matrix[start:])

    def _load_graph(self, rows: int) -> Any:
        """The saved graph if it indexes a prefix of the rows, else None."""
        path = self._graph_file
        if path is None or not path.exists():
            return None
        graph = _new_graph(self._matrix.shape[1])
        try:
            graph.load(str(path))
        except (OSError, RuntimeError, ValueError):
            return None
        if not 0 < len(graph) <= rows or len(graph) > self._saved:
            return None
        self._graph_saved = len(graph)
        return graph

    def save(self) -> None:
        """Write the vectors beside the store (atomically) if the vocabulary grew since."""
        with self._lock:
            self._save()

    def _save(self) -> None:
        if self.path is None or len(self.stems) <= self._saved:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _tmp(self.path)
        with open(tmp, "wb") as out:
            stems = np.frombuffer("\n".join(self.stems).encode(), dtype=np.uint8)  # stems hold no newline
            np.savez(out, stems=stems, vectors=self._matrix.astype(np.float16))
        os.replace(tmp, self.path)
        self._saved = len(self.stems)
        graph, path = self._graph, self._graph_file
        if graph is not None and path is not None and len(graph) > self._graph_saved:
            tmp = _tmp(path)
            graph.save(str(tmp))
            os.replace(tmp, path)
            self._graph_saved = len(graph)

    def _restore(self, surface: Mapping[str, str]) -> None:
        """Take the saved vectors if their stems are a prefix of ``surface``'s (else ignore the
        file: it is rebuilt from the events, the source of truth)."""
        if self.path is None or not self.path.exists():
            return
        try:
            with np.load(self.path, allow_pickle=False) as saved:
                stems = saved["stems"].tobytes().decode().split("\n")
                vectors = np.asarray(saved["vectors"], dtype=np.float32)
        except (OSError, ValueError, KeyError, UnicodeDecodeError):
            return
        if not stems or len(stems) > len(surface) or len(vectors) != len(stems) or vectors.ndim != 2:
            return
        if list(surface)[: len(stems)] != stems:
            return
        self.stems, self._matrix, self._saved = list(stems), vectors, len(stems)

    def vectors(self, words: Sequence[str], embed: EmbedMany) -> list[np.ndarray]:
        """The embedding of each of ``words``, each embedded on its own batch the first time it
        is asked about and kept for the next query (the vocabulary's vectors, embedded in large
        batches, differ slightly under int8 quantisation: LoCoMo dev 0.784 with them, 0.787)."""
        asked = self._asked
        found = {word: asked.get(word) for word in words}
        missing = [word for word, vector in found.items() if vector is None]
        if missing:
            fresh = dict(zip(missing, np.asarray(embed(missing), dtype=np.float32), strict=True))
            found.update(fresh)
            if len(asked) + len(fresh) > ASKED:
                self._asked = asked = {}  # replaced, not cleared: another thread may be reading
            asked.update(fresh)
        return [found[word] for word in words]  # type: ignore[misc]

    def related(self, cues: Sequence[np.ndarray], exclude: set[str]) -> dict[str, float]:
        """Stored stems related to any of the cue vectors: stem -> its best cosine to one of them.

        Each cue contributes its ``PER_WORD`` nearest stems with cosine at least ``RELATED``;
        stems in ``exclude`` (the query's own words) are left out, and numbers never come up.
        """
        found: dict[str, float] = {}
        stems, matrix = self.stems, self._matrix  # a catch-up in another thread replaces, never mutates
        if not cues or not len(matrix):
            return found
        depth = min(PER_WORD + len(exclude), len(matrix))
        for rows, sims in self._nearest(cues, matrix, depth):
            taken = 0
            for i, sim in zip(rows, sims, strict=True):
                if sim < RELATED or taken == PER_WORD:
                    break
                stem = stems[i]
                if stem in exclude:
                    continue
                found[stem] = max(found.get(stem, 0.0), sim)
                taken += 1
        return found

    def _nearest(
        self, cues: Sequence[np.ndarray], matrix: np.ndarray, depth: int
    ) -> list[tuple[list[int], list[float]]]:
        """For each cue, the ``depth`` nearest rows and their cosines, nearest first: exact
        below ``GRAPH_FROM`` rows, from the HNSW graph above."""
        if self._graph is not None:
            with self._lock:  # no search while a catch-up adds to the graph
                found = self._graph.search(np.stack(cues), depth)
            keys, distances = np.atleast_2d(found.keys), np.atleast_2d(found.distances)
            return [
                (
                    [int(k) for k, ok in zip(ks, ks < len(matrix), strict=True) if ok],
                    (1.0 - ds[ks < len(matrix)]).tolist(),
                )
                for ks, ds in zip(keys, distances, strict=True)
            ]
        out = []
        for cue in cues:
            sims = matrix @ cue  # gemv: a small sgemm right after ONNX Runtime ran was 10× slower
            top = np.argpartition(-sims, depth - 1)[:depth]
            top = top[np.argsort(-sims[top], kind="stable")]
            out.append((top.tolist(), sims[top].tolist()))
        return out


def _embed_words(words: list[str], embed: EmbedMany, dim: int | None) -> np.ndarray:
    """The words' vectors at float16 precision, as saved (a reopened store ranks exactly as this
    one); a number gets a zero vector, related to nothing: it names, it does not mean. ``dim``
    is the vectors' size, if known (else the first word is embedded to learn it)."""
    meaning = [i for i, word in enumerate(words) if not word.isdigit()] or ([0] if dim is None else [])
    vectors = np.asarray(embed([words[i] for i in meaning]), dtype=np.float16) if meaning else None
    width = int(vectors.shape[1]) if vectors is not None else int(dim or 0)
    out = np.zeros((len(words), width), dtype=np.float32)
    if vectors is not None:
        out[meaning] = vectors
    out[[i for i, word in enumerate(words) if word.isdigit()]] = 0.0
    return out


def _new_graph(dim: int) -> Any:
    from usearch.index import Index

    return Index(ndim=dim, metric="ip", dtype="f16", connectivity=16, expansion_add=64, expansion_search=128)
