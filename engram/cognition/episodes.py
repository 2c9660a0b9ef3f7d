"""Episodes: the stream of a namespace cut into events by surprise, kept up to date as it grows.

``EpisodeTracker`` feeds a namespace's events, in seq order, to the online ``Segmenter``
(``engram.perception.segmentation``) and remembers just enough to turn the episode starts it
reports (stream positions) back into seqs, with the reason for each cut. The tracker and the
segmenter inside it serialise to bytes, so the store keeps them beside the episodes and any
process can carry on where the last one stopped: feeding a stream in chunks, with a save and
a restore between them, gives the same episodes as feeding it at once.

An explicit session change is a boundary by itself (``"session"``), so is a pause longer than
the segmenter's ``time_gap`` (``"time_gap"``) and an episode reaching ``MAX_EPISODE_EVENTS``
(``"length"``); anywhere else the segmenter decides (``"surprise"``).

``episode_rows`` builds the stored form of episodes from their events: time span,
participants, centroid, and an extractive gist (the events nearest the centroid).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engram.core.records import Episode, Event
from engram.errors import StoreError
from engram.perception.embedders import Embedder
from engram.perception.segmentation import SegmentationConfig, Segmenter, new_segmenter
from engram.stores.base import EpisodeRow, Store, VectorBatch

__all__ = ["MAX_EPISODE_EVENTS", "EpisodeTracker", "catch_up", "episode_rows"]

MAX_EPISODE_EVENTS = 200  # an episode this long is closed whatever the predictor says
GIST_EVENTS = 2  # events quoted in a gist
GIST_WORDS = 30  # words kept of each quoted event
_RECENT = 256  # stream positions remembered for mapping starts back to seqs (>> look-ahead)
_WORD = re.compile(r"\S+")
_ATTEMPTS = 5
STATE_EVERY = 64  # events between saves of the segmenter state (0.6 MB); those after it are replayed on resume


@dataclass
class EpisodeTracker:
    """Online segmentation of one namespace, resumable from ``to_bytes``.

    ``seen_seq`` is the last seq fed; ``open_first_seq`` the first seq of the open episode.
    """

    segmenter: Segmenter
    seen_seq: int = 0
    count: int = 0  # events fed so far (the next stream position)
    open_first_seq: int = 0
    open_start: int = 0  # stream position of the open episode's first event
    open_boundary: str = "first"
    last_session: str | None = None
    last_time: float | None = None
    recent: list[tuple[int, int, str]] = field(default_factory=list)  # (position, seq, forced reason)
    saved_count: int = 0  # ``count`` when the state was last saved (not itself saved)

    @classmethod
    def new(cls, embedder: Embedder, config: SegmentationConfig | None = None) -> EpisodeTracker:
        return cls(new_segmenter(embedder, config))

    def advance(self, batch: VectorBatch) -> tuple[list[tuple[int, float]], list[tuple[int, str]]]:
        """Feed a batch (seqs above ``seen_seq``, in order); return (seq, surprise) per event and
        the (seq, reason) of each episode start that became final."""
        surprise: list[tuple[int, float]] = []
        starts: list[tuple[int, str]] = []
        for row, seq in enumerate(batch.seqs.tolist()):
            reason = self._forced_reason(batch.sessions[row], float(batch.occurred[row]))
            found = self.segmenter.push(batch.vectors[row], _clock(batch, row), new_session=bool(reason))
            self.recent.append((self.count, seq, reason))
            surprise.append((seq, float(self.segmenter.surprise_at(self.count))))
            starts += [self._start(position) for position in found]
            self.count += 1
            self.seen_seq = seq
            self.last_session, self.last_time = batch.sessions[row], float(batch.occurred[row])
        self.recent = self.recent[-_RECENT:]
        return surprise, starts

    def _forced_reason(self, session: str | None, occurred: float) -> str:
        if self.count == 0:
            return ""
        if session != self.last_session:
            return "session"
        if self.last_time is not None and occurred - self.last_time > self.segmenter.config.time_gap:
            return "time_gap"
        if self.count - self.open_start >= MAX_EPISODE_EVENTS:
            return "length"
        return ""

    def _start(self, position: int) -> tuple[int, str]:
        for where, seq, reason in reversed(self.recent):
            if where == position:
                boundary = "first" if position == 0 else reason or "surprise"
                self.open_first_seq, self.open_start, self.open_boundary = seq, position, boundary
                return seq, boundary
        raise RuntimeError(f"episode start {position} is older than the tracker remembers")  # a bug, not input

    def to_bytes(self) -> bytes:
        header = {
            "seen_seq": self.seen_seq,
            "count": self.count,
            "open_first_seq": self.open_first_seq,
            "open_start": self.open_start,
            "open_boundary": self.open_boundary,
            "last_session": self.last_session,
            "last_time": self.last_time,
            "recent": self.recent,
        }
        head = json.dumps(header).encode()
        return len(head).to_bytes(4, "big") + head + self.segmenter.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes, embedder: Embedder) -> EpisodeTracker:
        size = int.from_bytes(data[:4], "big")
        header = json.loads(data[4 : 4 + size])
        segmenter = Segmenter.from_bytes(data[4 + size :], embedder=embedder)
        recent = [(int(p), int(s), str(r)) for p, s, r in header.pop("recent")]
        return cls(segmenter=segmenter, recent=recent, saved_count=int(header["count"]), **header)


def episode_rows(
    namespace: str,
    spans: Sequence[tuple[int, int, str, bool]],
    batch: VectorBatch,
    events: dict[int, Event],
) -> list[EpisodeRow]:
    """Stored episodes for ``spans`` of (first seq, last seq, boundary, closed).

    ``batch`` holds the rows of every span (and maybe more); ``events`` maps at least each
    span's first and last seq, and the seqs of its earliest and latest events, to the event.
    """
    seqs = batch.seqs
    rows = []
    for first, last, boundary, closed in spans:
        lo, hi = int(np.searchsorted(seqs, first)), int(np.searchsorted(seqs, last, side="right"))
        rows.append(_row(namespace, first, last, boundary, closed, batch, range(lo, hi), events))
    return rows


def _row(
    namespace: str,
    first: int,
    last: int,
    boundary: str,
    closed: bool,
    batch: VectorBatch,
    rows: range,
    events: dict[int, Event],
) -> EpisodeRow:
    vectors = batch.vectors[rows.start : rows.stop]
    centroid = vectors.mean(axis=0)
    centroid = (centroid / max(float(np.linalg.norm(centroid)), 1e-12)).astype(np.float32)
    occurred = batch.occurred[rows.start : rows.stop]
    earliest = events[int(batch.seqs[rows.start + int(np.argmin(occurred))])]
    latest = events[int(batch.seqs[rows.start + int(np.argmax(occurred))])]
    speakers = [s for s in batch.speakers[rows.start : rows.stop] if s]
    episode = Episode(
        id=f"ep-{events[first].id}",
        namespace=namespace,
        started_at=earliest.occurred_at,
        ended_at=latest.occurred_at,
        recorded_at=events[first].recorded_at,
        event_count=len(rows),
        first_event_id=events[first].id,
        last_event_id=events[last].id,
        participants=tuple(dict.fromkeys(speakers)),
        gist=_gist(vectors, centroid, batch.texts[rows.start : rows.stop], batch.speakers[rows.start : rows.stop]),
        boundary=boundary,
        closed=closed,
    )
    return EpisodeRow(episode, first_seq=first, last_seq=last, centroid=centroid)


def _gist(vectors: np.ndarray, centroid: np.ndarray, texts: Sequence[str], speakers: Sequence[str | None]) -> str:
    """The ``GIST_EVENTS`` events nearest the centroid, in stream order, as "speaker: text" cut to
    ``GIST_WORDS`` words each. ``texts`` are index texts (the speaker, a space, the text)."""
    nearest = sorted(np.argsort(-(vectors @ centroid), kind="stable")[:GIST_EVENTS].tolist())
    parts = []
    for i in nearest:
        who = speakers[i]
        parts.append(f"{who}: {_clip(texts[i][len(who) + 1 :])}" if who else _clip(texts[i]))
    return " … ".join(parts)


def _clip(text: str) -> str:
    words = _WORD.findall(text)
    return " ".join(words[:GIST_WORDS]) + (" …" if len(words) > GIST_WORDS else "")


def catch_up(
    store: Store,
    embedder: Embedder,
    namespace: str,
    tracker: EpisodeTracker | None,
    *,
    config: SegmentationConfig | None = None,
) -> EpisodeTracker:
    """Segment the events of ``namespace`` that segmentation has not seen yet and save the result.

    ``tracker`` is a cached tracker (or None); it is used only if it is exactly where the
    store's segmentation is. ``config`` applies to a namespace segmented for the first time.
    Another writer may save first: then its state is loaded and the remaining events are fed
    again (compare-and-swap in ``save_segmentation``). The segmenter state itself is saved
    every ``STATE_EVERY`` events; a tracker resumed from an older state replays the events
    segmented since (``_resume``), which gives the same state, as chunked feeding does.

    Returns the tracker, now at least at the store's last seq when the call began (a writer
    that goes on storing meanwhile does not keep the call chasing it; another process that
    segments those events first counts as done).
    """
    target = store.last_seq(namespace)
    for _ in range(_ATTEMPTS):
        seen, saved = store.segmentation_state(namespace, unless_seen=tracker.seen_seq if tracker else None)
        if tracker is None or tracker.seen_seq != seen:
            tracker = _resume(store, embedder, namespace, saved, seen, config)
        if target <= seen:
            return tracker
        open_first, open_boundary = tracker.open_first_seq, tracker.open_boundary
        batch = store.vectors(namespace, after_seq=max(open_first, 1) - 1 if seen else 0)
        fresh = _rows(batch, seen, None)
        surprise, starts = tracker.advance(fresh)
        spans = _spans(open_first if seen else starts[0][0], open_boundary, starts, batch.seqs)
        wanted = {seq for first, last, _, _ in spans for seq in (first, last)} | _extremes(batch, spans)
        events = {seq: e for seq, e in zip(sorted(wanted), store.events(sorted(wanted)), strict=True)}
        rows = episode_rows(namespace, spans, batch, events)
        write_state = not seen or tracker.count - tracker.saved_count >= STATE_EVERY
        if store.save_segmentation(
            namespace,
            seen_seq=seen,
            new_seq=tracker.seen_seq,
            state=tracker.to_bytes() if write_state else None,
            surprise=surprise,
            episodes=rows,
        ):
            tracker.saved_count = tracker.count if write_state else tracker.saved_count
            return tracker
        tracker = None
    raise StoreError(f"segmentation of namespace {namespace!r} kept losing the race with other writers")


def _clock(batch: VectorBatch, row: int) -> float | None:
    """The event time the segmenter may weigh as evidence: only a time the caller gave.

    An event stored without ``occurred_at`` carries its ingest time, and a batch imported
    that way shares one instant, which says nothing about where conversations change (long
    pauses between batches still cut, in ``_forced_reason``). Measured through ``Memory``
    on LoCoMo dev conversation 26 with markers and times left out: 9 episodes for 19
    sessions when ingest times counted as evidence.
    """
    occurred = float(batch.occurred[row])
    recorded = float(batch.recorded[row]) if len(batch.recorded) > row else np.nan
    return None if occurred == recorded else occurred


def _resume(
    store: Store, embedder: Embedder, namespace: str, saved: bytes | None, seen: int, config: SegmentationConfig | None
) -> EpisodeTracker:
    """A tracker at ``seen``: the saved state, then the events segmented after it was saved."""
    tracker = EpisodeTracker.from_bytes(saved, embedder) if saved else EpisodeTracker.new(embedder, config)
    if tracker.seen_seq < seen:
        replay = _rows(store.vectors(namespace, after_seq=tracker.seen_seq), tracker.seen_seq, seen)
        tracker.advance(replay)  # the episodes and surprise it yields are stored already
        tracker.saved_count = tracker.count - len(replay.seqs)
    return tracker


def _rows(batch: VectorBatch, after: int, upto: int | None) -> VectorBatch:
    """The rows of ``batch`` with ``after`` < seq (<= ``upto``)."""
    start = int(np.searchsorted(batch.seqs, after, side="right"))
    stop = len(batch.seqs) if upto is None else int(np.searchsorted(batch.seqs, upto, side="right"))
    part = slice(start, stop)
    return VectorBatch(
        seqs=batch.seqs[part],
        vectors=batch.vectors[part],
        occurred=batch.occurred[part],
        sessions=batch.sessions[part],
        texts=batch.texts[part],
        recorded=batch.recorded[part],
        speakers=batch.speakers[part],
    )


def _spans(
    open_first: int, open_boundary: str, starts: list[tuple[int, str]], seqs: np.ndarray
) -> list[tuple[int, int, str, bool]]:
    """(first seq, last seq, boundary, closed) of the open episode and of those begun since.

    ``seqs`` are the namespace's seqs from ``open_first`` on (ascending).
    """
    cuts = [(open_first, open_boundary), *[(seq, why) for seq, why in starts if seq != open_first]]
    spans = []
    for (first, why), (following, _) in zip(cuts, cuts[1:], strict=False):
        last = int(seqs[int(np.searchsorted(seqs, following)) - 1])
        spans.append((first, last, why, True))
    spans.append((cuts[-1][0], int(seqs[-1]), cuts[-1][1], False))
    return spans


def _extremes(batch: VectorBatch, spans: Sequence[tuple[int, int, str, bool]]) -> set[int]:
    """Seqs of the earliest and latest event (by occurred time) of each span."""
    out = set()
    for first, last, _, _ in spans:
        lo, hi = int(np.searchsorted(batch.seqs, first)), int(np.searchsorted(batch.seqs, last, side="right"))
        occurred = batch.occurred[lo:hi]
        out |= {int(batch.seqs[lo + int(np.argmin(occurred))]), int(batch.seqs[lo + int(np.argmax(occurred))])}
    return out
