"""Related words: a namespace's vocabulary placed in the embedding model's space.

A word of the query cues the stored words whose own embeddings lie near it ("instruments"
cues "clarinet" and "violin", "martial arts" cues "taekwondo", "pets" cues "cat"): spreading
activation in a semantic network (Collins & Loftus 1975), with the embedding model as the
network. Recall scores events by BM25 over those related words, each weighted by its cosine
to the query word, as a ranking of its own (``recall``), so an event that names an instance
of what the query asks about is found though it shares no word with the query.

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
run-to-run noise (about ± 0.004). LongMemEval_S dev recall_all@5 0.962 → 0.966.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["PER_WORD", "RELATED", "WordSpace"]

RELATED = 0.5  # the least cosine between a query word and a stored word that cues it
PER_WORD = 10  # the most related words one query word cues
ASKED = 4096  # query words whose embeddings are kept
SAVE_EVERY = 1000  # new words embedded between saves of the file

EmbedMany = Callable[[list[str]], np.ndarray]


class WordSpace:
    """Embeddings of a namespace's words (one per stem), grown as the vocabulary grows."""

    def __init__(self, path: Path | None = None) -> None:
        self.stems: list[str] = []
        self.path = path  # where the vectors are saved between runs (None: never saved)
        self._saved = 0  # stems the file holds
        self._restored = path is None  # the file is read once, at the first catch-up
        self._asked: dict[str, np.ndarray] = {}  # query words, as embedded (at most ASKED)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
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
            if len(surface) <= len(self.stems):
                return
            new = list(surface)[len(self.stems) :]
            # held at float16 precision, as saved: a reopened store ranks exactly as this one
            vectors = np.asarray(embed([surface[stem] for stem in new]), dtype=np.float16).astype(np.float32)
            matrix = np.concatenate([self._matrix, vectors]) if len(self._matrix) else vectors
            self.stems.extend(new)
            self._matrix = matrix
            if len(self.stems) - self._saved >= SAVE_EVERY:
                self._save()

    def save(self) -> None:
        """Write the vectors beside the store (atomically) if the vocabulary grew since."""
        with self._lock:
            self._save()

    def _save(self) -> None:
        if self.path is None or len(self.stems) <= self._saved:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as out:
            stems = np.frombuffer("\n".join(self.stems).encode(), dtype=np.uint8)  # stems hold no newline
            np.savez(out, stems=stems, vectors=self._matrix.astype(np.float16))
        os.replace(tmp, self.path)
        self._saved = len(self.stems)

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
        stems in ``exclude`` (the query's own words) are left out.
        """
        found: dict[str, float] = {}
        stems, matrix = self.stems, self._matrix  # a catch-up in another thread replaces, never mutates
        if not cues or not len(matrix):
            return found
        sims = np.stack(
            [matrix @ cue for cue in cues]
        )  # [cues, vocabulary]; gemv: a small sgemm right after ONNX Runtime ran was 10× slower
        depth = min(PER_WORD + len(exclude), sims.shape[1])
        for row in sims:
            top = np.argpartition(-row, depth - 1)[:depth]
            taken = 0
            for i in top[np.argsort(-row[top], kind="stable")].tolist():
                if row[i] < RELATED or taken == PER_WORD:
                    break
                stem = stems[i]
                if stem in exclude:
                    continue
                found[stem] = max(found.get(stem, 0.0), float(row[i]))
                taken += 1
        return found
