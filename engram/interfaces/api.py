"""``Memory``: the one entry object. Every front door (CLI, HTTP, MCP) calls these methods."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import numpy as np

from engram.cognition import forget as forgetting
from engram.cognition import rehearsal
from engram.cognition import semantic as semantics
from engram.cognition.consolidate import ConsolidationReport, consolidate
from engram.cognition.context import pack
from engram.cognition.episodes import EpisodeTracker, catch_up
from engram.cognition.order import Order, Position, word_offset
from engram.cognition.recall import STRONG_CUE, RecallConfig, rank, rank_episodes
from engram.cognition.strength import Strength
from engram.config import DEFAULT_BUDGET_TOKENS, DEFAULT_TOP_K, engram_home
from engram.core import validate
from engram.core.records import Context, Entity, Episode, EpisodeHit, Event, Fact, Hit, Profile, new_id, utcnow
from engram.errors import InvalidInput, NotFound
from engram.index.namespace import NamespaceIndex
from engram.index.vector import filter_rows
from engram.llm.extract import default_extractor
from engram.llm.extraction import Extractor
from engram.neural.completion import DEFAULT_KAPPA, complete_cue
from engram.perception.embedders import Embedder, default_embedder
from engram.perception.segmentation import SegmentationConfig
from engram.stores.base import Filter, Store
from engram.stores.erasure import events_by_seq
from engram.stores.memory import InMemoryStore
from engram.stores.sqlite import SQLiteStore

__all__ = ["Memory"]

COMPLETION_KAPPA = DEFAULT_KAPPA  # weight of the dense view beside the words (tuned on fragment cues)
_ITEM_KEYS = frozenset({"text", "speaker", "session", "occurred_at", "metadata", "id", "importance"})


def _embedding_text(event: Event) -> str:
    """What the embedder sees: the speaker's name carries meaning ("what did Anna say…")."""
    return f"{event.speaker}: {event.text}" if event.speaker else event.text


class Memory:
    """Long-term memory for agents, embedded in one SQLite file by default.

    Args:
        path: a directory for the store; ``None`` uses ``$ENGRAM_HOME`` (or ``~/.engram``);
            ``":memory:"`` keeps everything in this process.
        embedder: the embedding model; defaults to all-MiniLM-L6-v2 (ONNX, int8).
        store: a ready ``Store`` instead of ``path``.
        recall: which recall stages run (all by default; see ``RecallConfig``).
        segmentation: settings of the segmenter for namespaces segmented for the first time
            (a namespace keeps the settings it was segmented with).
        extractor: what consolidation extracts facts with; defaults to the offline rule
            extractor, or to an LLM (with the rules as fallback) when ``ENGRAM_LLM_URL`` and
            ``ENGRAM_LLM_MODEL`` are set.

    Raises:
        ModelMismatch: the store was built with another embedding model.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        embedder: Embedder | None = None,
        store: Store | None = None,
        recall: RecallConfig | None = None,
        segmentation: SegmentationConfig | None = None,
        extractor: Extractor | None = None,
    ) -> None:
        if store is None:
            store = InMemoryStore() if str(path) == ":memory:" else SQLiteStore(Path(path) if path else engram_home())
        self.store = store
        self.embedder = embedder or default_embedder()
        self.store.bind_model(self.embedder.name, self.embedder.dim)
        self.recall_config = recall or RecallConfig()
        self.segmentation = segmentation
        self._indexes: dict[str, NamespaceIndex] = {}
        self._lock = threading.Lock()
        self._segment_lock = threading.Lock()
        self._trackers: dict[str, EpisodeTracker] = {}  # guarded by _segment_lock
        self._erasures: dict[str, int] = {}  # each namespace's erasure count the caches reflect (_segment_lock)
        self._extractor = extractor
        self._consolidate_lock = threading.Lock()

    # -- encode ---------------------------------------------------------------------------

    def remember(
        self,
        text: str,
        *,
        namespace: str = "default",
        speaker: str | None = None,
        session: str | None = None,
        occurred_at: datetime | str | None = None,
        metadata: Mapping[str, Any] | None = None,
        importance: float | None = None,
    ) -> Event:
        """Store one event durably and return it. Nothing is stored if any argument is invalid.

        ``importance`` in [0, 1] says how much the event matters; with its surprise and its
        repetitions it sets how slowly it fades (``strength``)."""
        item = {
            "text": text,
            "speaker": speaker,
            "session": session,
            "occurred_at": occurred_at,
            "metadata": metadata,
            "importance": importance,
        }
        return self.remember_many([item], namespace=namespace)[0]

    def remember_many(self, items: Iterable[Mapping[str, Any]], *, namespace: str = "default") -> list[Event]:
        """Store many events in one transaction (all or none), embedding them in batches.

        Each item is a mapping with ``text`` and optionally ``speaker``, ``session``,
        ``occurred_at`` (aware datetime or ISO-8601 string), ``metadata``, ``importance`` and ``id``.
        Once the events are durable, the namespace's stream is segmented into episodes; the
        returned events carry their surprise.
        """
        namespace = validate.namespace(namespace)
        now = utcnow()
        events = [self._event(i, item, namespace, now) for i, item in enumerate(items)]
        if not events:
            return []
        vectors = self.embedder.embed([_embedding_text(e) for e in events])
        seqs = self.store.add(events, vectors)
        self._segment(namespace)
        stored = {e.id: e for e in self.store.events(seqs)}
        return [dataclasses.replace(e, surprise=stored[e.id].surprise) if e.id in stored else e for e in events]

    def _segment(self, namespace: str) -> int:
        """Bring the namespace's episodes up to date with its events (see ``catch_up``);
        return the last seq segmented."""
        with self._segment_lock:
            self._drop_if_erased(namespace)
            tracker = self._trackers.get(namespace)
            if tracker is None or self.store.last_seq(namespace) > tracker.seen_seq:
                tracker = catch_up(self.store, self.embedder, namespace, tracker, config=self.segmentation)
                self._trackers[namespace] = tracker
            return tracker.seen_seq

    def _event(self, index: int, item: Mapping[str, Any], namespace: str, now: datetime) -> Event:
        if not isinstance(item, Mapping):
            raise InvalidInput(f"item {index} must be a mapping, got {type(item).__name__}")
        unknown = set(item) - _ITEM_KEYS
        if unknown:
            raise InvalidInput(f"item {index} has unknown keys {sorted(unknown)}; allowed: {sorted(_ITEM_KEYS)}")
        try:
            occurred = item.get("occurred_at")
            return Event(
                id=validate.label(item.get("id"), "id") or new_id(),
                namespace=namespace,
                text=validate.text(item.get("text")),
                speaker=validate.label(item.get("speaker"), "speaker"),
                session=validate.label(item.get("session"), "session"),
                occurred_at=now if occurred is None else validate.moment(occurred, "occurred_at"),
                recorded_at=now,
                metadata=validate.metadata(item.get("metadata")),
                importance=validate.unit(item.get("importance"), "importance"),
            )
        except InvalidInput as exc:
            raise InvalidInput(f"item {index}: {exc}" if index else str(exc)) from None

    # -- retrieve -------------------------------------------------------------------------

    def recall(
        self,
        query: str,
        *,
        namespace: str = "default",
        k: int = DEFAULT_TOP_K,
        at: datetime | None = None,
        session: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        recorded_since: datetime | None = None,
        recorded_until: datetime | None = None,
        strength: bool = True,
        rehearse: bool = True,
        include_faded: bool = False,
    ) -> list[Hit]:
        """The ``k`` events most relevant to ``query``, best first, each with its evidence.

        Dense (cosine) and lexical (BM25) candidates are fused by reciprocal rank, with the
        events' base-level activation (how recently and often they were recalled, how
        salient they are) as a lighter ranking. ``session``, ``since`` (inclusive) and
        ``until`` (exclusive) restrict the search; ``since``/``until`` are event time
        (``occurred_at``), ``recorded_since``/``recorded_until`` ingest time
        (``recorded_at``). ``at`` is "now" for the question (default: the current time).

        Memory strength (``engram.cognition.strength``): events whose retention at ``at`` fell
        below the fading threshold are left out unless the cue is close to them, the call
        names their session or event-time window (reinstating their context), or
        ``include_faded``; nothing is deleted by fading. What is returned is strengthened
        (the testing effect; more after a longer gap) unless ``rehearse=False``.
        ``strength=False`` (with ``rehearse=False``) is pure-similarity recall.
        """
        query = validate.text(query, "query")
        namespace = validate.namespace(namespace)
        k = validate.top_k(k)
        at = utcnow() if at is None else validate.moment(at, "at")
        where = Filter(
            session=validate.label(session, "session"),
            since=validate.optional_moment(since, "since"),
            until=validate.optional_moment(until, "until"),
            recorded_since=validate.optional_moment(recorded_since, "recorded_since"),
            recorded_until=validate.optional_moment(recorded_until, "recorded_until"),
        )
        reinstated = where.session is not None or where.since is not None or where.until is not None
        config = self._per_call(strength, include_faded, reinstated)
        fused = self._ranked(query, namespace, k, where, at, config=config)
        found = events_by_seq(self.store, [seq for seq, _, _ in fused])  # less any erased meanwhile
        events = [found[seq] for seq, _, _ in fused if seq in found]
        if validate.flag(rehearse, "rehearse"):
            via_facts = [seq for seq, _, parts in fused if "fact" in parts and seq in found]
            self._rehearse(namespace, events, at, via_facts)
        return [Hit(event=found[seq], score=score, components=parts) for seq, score, parts in fused if seq in found]

    def _per_call(self, strength: bool, include_faded: bool, reinstated: bool) -> RecallConfig:
        """The recall config with this call's strength switches; a call that names the events'
        session or time window reinstates their context, which finds faded ones too."""
        return dataclasses.replace(
            self.recall_config,
            strength=self.recall_config.strength and validate.flag(strength, "strength"),
            include_faded=validate.flag(include_faded, "include_faded") or reinstated,
        )

    def _rehearse(self, namespace: str, events: list[Event], at: datetime, via_facts: list[int] | None = None) -> None:
        """Strengthen recalled events (the testing effect) and the facts recall reached them
        through, and save their new state."""
        if not events:
            return
        with self._lock:  # saved under it too, so that no erasure (which holds it) falls in between
            index = self._indexes.get(namespace)
            if index is None:  # dropped by an erasure since the ranking
                return
            changed = rehearsal.rehearse_events(index, events, at) + rehearsal.rehearse_facts(
                index, via_facts or [], at
            )
            self.store.save_strengths(namespace, changed)

    def recall_episodes(
        self,
        query: str,
        *,
        namespace: str = "default",
        k: int = 5,
        at: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        strength: bool = True,
        rehearse: bool = True,
        include_faded: bool = False,
    ) -> list[EpisodeHit]:
        """The ``k`` episodes most relevant to ``query`` ("which conversations were about this?").

        Episodes are ranked by their best event in ``recall``, by their centroid and by BM25
        over each episode as one document, fused by reciprocal rank. ``since``/``until``
        keep episodes with an event in that event-time window. ``strength``, ``rehearse``
        and ``include_faded`` work as in ``recall``: a faded episode is left out unless its
        centroid is close to the query or the call names a window.
        """
        query = validate.text(query, "query")
        namespace = validate.namespace(namespace)
        k = validate.top_k(k)
        at = utcnow() if at is None else validate.moment(at, "at")
        where = Filter(since=validate.optional_moment(since, "since"), until=validate.optional_moment(until, "until"))
        config = self._per_call(strength, include_faded, not where.empty)
        index = self._index(namespace)
        allow = None if where.empty else filter_rows(where, index.vectors)
        depth = k if config.include_faded or not config.strength else max(2 * k, k + 10)
        ranked = rank_episodes(
            index, query, self._embed_one, depth, allow=allow, at=at, config=config, embed_many=self.embedder.embed
        )
        if config.strength and not config.include_faded:
            ranked = rehearsal.unfaded(index, ranked, self._embed_one(query), at, STRONG_CUE)
        ranked = ranked[:k]
        if validate.flag(rehearse, "rehearse"):
            self._rehearse_episodes(namespace, index, [e for e, _, _ in ranked], at)
        return [EpisodeHit(index.episodes[e].episode, score, parts) for e, score, parts in ranked]

    def _rehearse_episodes(self, namespace: str, index: NamespaceIndex, positions: list[int], at: datetime) -> None:
        with self._lock:  # saved under it too, so that no erasure (which holds it) falls in between
            if self._indexes.get(namespace) is not index:  # dropped by an erasure since the ranking
                return
            self.store.save_strengths(namespace, rehearsal.rehearse_episodes(index, positions, at))

    def _ranked(
        self,
        query: str,
        namespace: str,
        k: int,
        where: Filter,
        at: datetime | None = None,
        *,
        config: RecallConfig | None = None,
    ) -> list[tuple[int, float, dict[str, float]]]:
        """The top-k (seq, fused score, components) for a validated query."""
        index = self._index(namespace)
        allow = None if where.empty else filter_rows(where, index.vectors)
        return rank(
            index,
            query,
            self._embed_one,
            k,
            allow=allow,
            at=at or utcnow(),
            config=config or self.recall_config,
            embed_many=self.embedder.embed,
        )

    def complete(self, cue: str, *, namespace: str = "default", k: int = 5) -> list[Hit]:
        """Pattern completion: the stored events a partial or garbled cue most likely belongs to.

        A modern Hopfield update in key/value form over each event's dense vector and its word
        stems (``engram.neural.completion``): the weights are the posterior probability that
        the cue was drawn from each event. Use it when the cue is a fragment of a memory
        ("…the shoe and the dog…") rather than a question; ``hit.components["weight"]`` is that
        probability. On LoCoMo dev turns cued by half their words it finds the right turn 0.999
        of the time, against 0.745 for plain cosine (``python -m engram.eval.completion``).
        """
        cue = validate.text(cue, "cue")
        namespace = validate.namespace(namespace)
        k = validate.top_k(k)
        index = self._index(namespace)
        if not len(index):
            return []
        with self._lock:
            lexicon, features = index.lexicon(), index.features(cue)
        stored = index.vectors.matrix[: len(index)]
        done = complete_cue(
            stored, self._embed_one(cue), lexicon=lexicon, cue_features=features, kappa=COMPLETION_KAPPA
        )
        rows = np.lexsort((np.arange(len(done.scores)), -done.scores))[:k]
        found = events_by_seq(self.store, [int(index.seqs[r]) for r in rows])  # less any erased meanwhile
        return [
            Hit(
                found[int(index.seqs[r])],
                float(done.weights[r]),
                {"completion": float(done.scores[r]), "completion_rank": rank, "weight": float(done.weights[r])},
            )
            for rank, r in enumerate(rows.tolist(), start=1)
            if int(index.seqs[r]) in found
        ]

    def _embed_one(self, text: str) -> np.ndarray:
        return self.embedder.embed([text])[0]

    def order(self, a: str, b: str, *, namespace: str = "default") -> Order:
        """Which of ``a`` and ``b`` (event ids or text cues) happened first, with the evidence.

        A text cue is located by recall, then verbatim inside the best-matching event (or at
        the end of the one before it), so two cues from the same event are ordered too.
        Stream order is ``occurred_at``, then ingest order.

        Raises:
            NotFound: a cue matches nothing in the namespace.
        """
        namespace = validate.namespace(namespace)
        index = self._index(namespace)
        seqs = index.vectors.seqs[: len(index.vectors)]
        stream = np.lexsort((seqs, index.vectors.occurred[: len(seqs)]))  # rows in stream order
        first, second = (self._position(cue, namespace, seqs, stream) for cue in (a, b))
        a_first = (first.rank, first.offset) <= (second.rank, second.offset)
        return Order(first="a" if a_first else "b", a=first, b=second)

    def _position(self, cue: str, namespace: str, seqs: np.ndarray, stream: np.ndarray) -> Position:
        """Locate ``cue`` in the stream; ``stream`` lists the rows of ``seqs`` in stream order."""
        cue = validate.text(cue, "cue")
        wanted = None
        if " " not in cue and len(cue) <= 64:
            try:
                wanted = self.store.get(cue)  # an event id: locate its text, keep that event
            except NotFound:
                pass
        text = wanted.text if wanted else cue
        verbatim = dataclasses.replace(
            self.recall_config,
            time_cues=False,
            participants=False,
            facts=False,
            related_words=False,
            topic=False,
            questions=False,
        )
        ranked = self._ranked(text, namespace, 5, Filter(), config=verbatim)
        present = events_by_seq(self.store, [seq for seq, _, _ in ranked])
        hits = [(seq, present[seq]) for seq, _, _ in ranked if seq in present]
        if wanted:
            hits = [(seq, event) for seq, event in hits if event.id == wanted.id]
        if not hits:
            raise NotFound(f"nothing in namespace {namespace!r} matches {cue[:60]!r}")
        rank_of_row = np.empty(len(seqs), dtype=np.int64)
        rank_of_row[stream] = np.arange(len(seqs))
        for seq, event in hits:
            place = int(rank_of_row[np.searchsorted(seqs, seq)])
            previous = self.store.events([int(seqs[stream[place - 1]])])[0] if place > 0 else None
            found = word_offset(text, event.text, previous.text if previous else None)
            if found is not None:
                step, offset = found
                where = previous if step < 0 and previous else event
                return Position(event=where, rank=place + step, offset=offset, exact=True)
        seq, event = hits[0]
        return Position(event=event, rank=int(rank_of_row[np.searchsorted(seqs, seq)]), offset=0, exact=False)

    def _index(self, namespace: str) -> NamespaceIndex:
        """The namespace's in-process indexes, caught up with the store (other writers included)."""
        segmented = self._segment(namespace)
        with self._lock:
            index = self._indexes.get(namespace)
            if index is None:
                index = self._indexes[namespace] = NamespaceIndex.new(self.embedder.dim, self._ann_path(namespace))
            if self.store.last_seq(namespace) > index.vectors.last_seq:
                index.add(self.store.vectors(namespace, index.vectors.last_seq))
            if index.episodes_seen != segmented:
                index.set_episodes(self.store.episodes(namespace), segmented)
            consolidated = self.store.consolidation_state(namespace)
            if index.facts_seen != consolidated:
                index.set_facts(self.store.entities(namespace), self.store.facts(namespace), consolidated)
            self._refresh_strength(namespace, index)
            return index

    def _refresh_strength(self, namespace: str, index: NamespaceIndex) -> None:
        """Take strength saved since (by any process) and surprise decided since the rows were read."""
        version, rows = self.store.strengths(namespace, index.strength.version)
        if rows:
            index.strength.apply(rows, version)
        unknown = index.strength.unknown_surprise()
        if len(unknown):
            seqs = index.seqs[unknown].tolist()
            found = events_by_seq(self.store, seqs)  # less any erased by another process meanwhile
            rehearsal.take_surprise(index, unknown, [found.get(seq) for seq in seqs])

    def _ann_path(self, namespace: str) -> Path | None:
        if self.store.directory is None:
            return None
        digest = hashlib.sha1(f"{self.embedder.name}\0{namespace}".encode()).hexdigest()[:20]
        return Path(self.store.directory) / "ann" / f"{digest}.usearch"

    def context(
        self,
        query: str,
        *,
        namespace: str = "default",
        budget_tokens: int = DEFAULT_BUDGET_TOKENS,
        at: datetime | None = None,
        k: int = 50,
    ) -> Context:
        """A prompt-ready block of the best memories for ``query`` within ``budget_tokens``."""
        if isinstance(budget_tokens, bool) or not isinstance(budget_tokens, int) or budget_tokens < 16:
            raise InvalidInput(f"budget_tokens must be an integer of at least 16, got {budget_tokens!r}")
        at = utcnow() if at is None else validate.moment(at, "at")
        packed = pack(self.recall(query, namespace=namespace, k=k, at=at, rehearse=False), budget_tokens)
        self._rehearse(validate.namespace(namespace), list(packed.events), at)  # what reached the prompt
        return packed

    # -- consolidate ----------------------------------------------------------------------

    @property
    def extractor(self) -> Extractor:
        """The fact extractor consolidation uses (built on first use)."""
        if self._extractor is None:
            self._extractor = default_extractor()
        return self._extractor

    def consolidate(self, namespace: str | None = None) -> ConsolidationReport:
        """Replay the episodes not yet consolidated into facts and entities ("sleep").

        Extracts facts from new events, resolves their entities, merges duplicates and ends
        facts that newer ones contradict (supersession). Idempotent and resumable: a
        checkpoint is saved after each chunk of whole episodes. ``namespace=None`` does every
        namespace. Safe to call while other threads or processes ``remember``.

        Raises:
            LLMError: the configured extractor failed without a fallback.
        """
        counts = cast(dict[str, int], self.store.stats()["namespaces"])
        spaces = [validate.namespace(namespace)] if namespace is not None else list(counts)
        report = ConsolidationReport()
        with self._consolidate_lock:
            for space in spaces:
                self._segment(space)
                consolidate(self.store, self.embedder, self.extractor, space, report)
        return report

    def reflect(self, text: str, *, sources: Iterable[str], namespace: str = "default") -> Event:
        """Store a conclusion the agent reached, linked to the events it was drawn from.

        The reflection is an event of its own (``metadata["kind"] == "reflection"``, with
        ``metadata["sources"]``), recalled like any other, so it need not be derived again.

        Raises:
            InvalidInput: no sources, or a source of another namespace.
            NotFound: a source id that does not exist.
        """
        namespace = validate.namespace(namespace)
        ids = [validate.text(source, "source") for source in sources]
        if not ids:
            raise InvalidInput("reflect needs at least one source event id")
        found = [self.store.get(i) for i in dict.fromkeys(ids)]
        foreign = [e.id for e in found if e.namespace != namespace]
        if foreign:
            raise InvalidInput(f"sources {foreign} are not in namespace {namespace!r}")
        newest = max(found, key=lambda e: e.occurred_at)
        item = {"text": text, "session": newest.session, "metadata": {"kind": "reflection", "sources": list(ids)}}
        return self.remember_many([item], namespace=namespace)[0]

    def _semantic(self, namespace: str) -> semantics.SemanticMemory:
        store = self.store
        return semantics.SemanticMemory.load(
            namespace, self.embedder.dim, store.entities(namespace), store.facts(namespace)
        )

    def facts(
        self,
        namespace: str = "default",
        *,
        about: str | None = None,
        at: datetime | str | None = None,
        include_superseded: bool = False,
    ) -> list[Fact]:
        """Facts of semantic memory, oldest first: those true now, or at ``at``.

        ``about`` keeps facts whose subject or object is that entity (a name or an alias);
        ``include_superseded`` returns every fact ever derived, ended ones included.
        Facts exist once ``consolidate`` has run.
        """
        namespace = validate.namespace(namespace)
        moment = validate.optional_moment(at, "at")
        memory = self._semantic(namespace)
        facts = [row.fact for row in memory.facts.values()] if include_superseded else memory.valid(moment)
        if about is not None:
            entity = memory.find(validate.text(about, "about"))
            facts = semantics.about(facts, entity.id) if entity else []
        return sorted(facts, key=lambda f: (f.valid_from, f.recorded_at, f.id))

    def entities(self, namespace: str = "default") -> list[Entity]:
        """Entities of semantic memory, in the order they were first seen."""
        return list(self._semantic(validate.namespace(namespace)).entities.values())

    def profile(self, namespace: str = "default", *, subject: str | None = None) -> Profile:
        """What is true now about ``subject`` (default: the entity most facts are about).

        Raises:
            NotFound: ``subject`` is not an entity of the namespace, or there are no facts yet.
        """
        namespace = validate.namespace(namespace)
        memory = self._semantic(namespace)
        current = memory.valid(None)
        if subject is not None:
            entity = memory.find(validate.text(subject, "subject"))
        else:
            counts: dict[str, int] = {}
            for fact in current:
                counts[fact.subject_id] = counts.get(fact.subject_id, 0) + 1
            entity = memory.entities[max(counts, key=counts.__getitem__)] if counts else None
        if entity is None:
            raise NotFound(f"no facts about {subject or 'anyone'!r} in namespace {namespace!r}; run consolidate first")
        grouped = semantics.profile_facts(current, entity.id)
        return Profile(namespace, entity.name, grouped, semantics.profile_text(entity.name, grouped))

    # -- erase ----------------------------------------------------------------------------

    def forget(
        self,
        event_id: str | None = None,
        *,
        query: str | None = None,
        namespace: str | None = None,
        k: int = DEFAULT_TOP_K,
        dry_run: bool = False,
    ) -> forgetting.ForgetReport:
        """Erase events for good, with what was derived from them (``engram.cognition.forget``).

        One target: ``event_id`` (that event, in its own namespace); ``query`` (the ``k``
        events of ``namespace``, default ``"default"``, most similar to it by dense and
        lexical recall alone); or ``namespace`` by itself (every row of the namespace).
        Reflections all of whose sources go are erased too; facts left without sources are
        deleted and the others lose the erased ids; entities left without facts are deleted;
        the namespace is segmented into episodes again from its remaining events. No copy is
        left in the store's files, and other ``Memory`` objects on the store stop returning
        the erased events from their next call. An unknown or empty namespace erases nothing
        (a report of zeros). ``dry_run`` reports the same and changes nothing.

        Raises:
            InvalidInput: no target, both an event id and a query, or ``namespace`` other
                than the event's. Nothing is changed.
            NotFound: no event has id ``event_id``.
        """
        goal = forgetting.target(event_id, query=query, namespace=namespace, k=k)
        with self._consolidate_lock:  # no consolidation here derives facts from what is being erased
            space, ids = self._forget_targets(goal)
            if dry_run:
                return forgetting.preview(self.store, self.embedder, space, ids, self.segmentation)
            with self._segment_lock, self._lock:  # held until the caches and episodes are rebuilt
                return self._erase(space, ids)

    def _forget_targets(self, goal: forgetting.Target) -> tuple[str, list[str] | None]:
        """The namespace and event ids to erase (``None``: all of the namespace)."""
        if goal.event_id is not None:
            event = self.store.get(goal.event_id)
            if goal.namespace not in (None, event.namespace):
                raise InvalidInput(f"event {event.id!r} is in namespace {event.namespace!r}, not {goal.namespace!r}")
            return event.namespace, [event.id]
        space = cast(str, goal.namespace)
        if goal.query is None:
            return space, None
        ranked = self._ranked(goal.query, space, goal.k, Filter(), config=forgetting.plain(self.recall_config))
        found = events_by_seq(self.store, [seq for seq, _, _ in ranked])
        return space, [found[seq].id for seq, _, _ in ranked if seq in found]

    def _erase(self, namespace: str, event_ids: list[str] | None) -> forgetting.ForgetReport:
        """Erase in the store, drop this process's caches and files of the namespace, segment it again."""
        config = forgetting.saved_config(self.store, self.embedder, namespace, self.segmentation)
        before = len(self.store.episodes(namespace))
        erasure = self.store.erase(namespace, event_ids)
        if erasure.seqs or erasure.whole:
            self._indexes.pop(namespace, None)
            self._trackers.pop(namespace, None)
            self._erasures[namespace] = self.store.erasures(namespace)
            if not erasure.whole:
                self._trackers[namespace] = forgetting.resegment(self.store, self.embedder, namespace, config)
            forgetting.delete_graph(self._ann_path(namespace))
        after = len(self.store.episodes(namespace))
        return forgetting.report(erasure, dry_run=False, episodes_before=before, episodes_after=after)

    def _drop_if_erased(self, namespace: str) -> None:
        """Drop the caches of ``namespace`` if it had an erasure (here or by another ``Memory``)
        since they were built; called under ``_segment_lock``."""
        erasures = self.store.erasures(namespace)
        if self._erasures.get(namespace, 0) != erasures:
            self._trackers.pop(namespace, None)
            with self._lock:
                self._indexes.pop(namespace, None)
            self._erasures[namespace] = erasures

    # -- inspect --------------------------------------------------------------------------

    def timeline(
        self,
        namespace: str = "default",
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> list[Episode]:
        """The namespace's episodes in time order (by when they started, in event time).

        ``since`` / ``until`` keep the episodes overlapping [since, until). The newest
        episode is open (``closed=False``) while events keep arriving.
        """
        namespace = validate.namespace(namespace)
        since, until = validate.optional_moment(since, "since"), validate.optional_moment(until, "until")
        self._segment(namespace)
        rows = self.store.episodes(namespace, since=since, until=until)
        return [row.episode for row in sorted(rows, key=lambda r: (r.episode.started_at, r.first_seq))]

    def episode_events(self, episode: Episode | str, *, namespace: str | None = None) -> list[Event]:
        """The events of an episode (an ``Episode`` or its id), in stream order.

        Raises:
            NotFound: no such episode in the namespace.
        """
        episode_id = episode.id if isinstance(episode, Episode) else validate.text(episode, "episode")
        space = validate.namespace(namespace or (episode.namespace if isinstance(episode, Episode) else "default"))
        index = self._index(space)
        for position, row in enumerate(index.episodes):
            if row.episode.id == episode_id:
                return self.store.events(index.seqs[index.episode_rows(position)].tolist())
        raise NotFound(f"no episode {episode_id!r} in namespace {space!r}")

    def get(self, event_id: str) -> Event:
        """One event by id (``NotFound`` if absent)."""
        return self.store.get(event_id)

    def strength(self, item_id: str, *, namespace: str = "default", at: datetime | str | None = None) -> Strength:
        """How well an event, episode or fact is held at ``at`` (default: now).

        Events are found by id in any namespace; episodes and facts in ``namespace``.
        Reading a strength changes nothing.

        Raises:
            NotFound: no event, episode or fact has that id.
        """
        item_id = validate.text(item_id, "item_id")
        moment = (utcnow() if at is None else validate.moment(at, "at")).timestamp()
        try:
            event: Event | None = self.store.get(item_id)
        except NotFound:
            event = None
        space = event.namespace if event else validate.namespace(namespace)
        index = self._index(space)
        if event is not None:
            with self._lock:
                return rehearsal.event_strength(index, item_id, moment)
        with self._lock:
            return rehearsal.other_strength(index, space, item_id, moment)

    def stats(self) -> dict[str, Any]:
        """Counts per namespace, bytes on disk, the embedding model."""
        return {**self.store.stats(), "embedder": self.embedder.name}

    def close(self) -> None:
        """Save grown HNSW graphs and word vectors (so the next open skips rebuilding them) and
        close the store."""
        with self._lock:
            for namespace, index in self._indexes.items():
                if self.store.erasures(namespace) == self._erasures.get(namespace, 0):  # else it holds erased vectors
                    index.vectors.save()
                    index.words.save()
        self.store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
