"""Which of two remembered things happened first, with the evidence (Sequence Order Recall).

A cue is located in the stream as (event, word offset inside the event). An event's place in
the stream is its ``occurred_at``, then its ingest order; the word offset orders two cues that
fall in the same event. A cue whose first words are not in the event that best matches it is
looked for at the end of the event before (a cue may straddle two events).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engram.core.records import Event

__all__ = ["Order", "Position", "word_offset"]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
PROBE_WORDS = 6  # words of the cue looked for verbatim


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _find(needle: list[str], hay: list[str]) -> int:
    n = len(needle)
    for i in range(len(hay) - n + 1):
        if hay[i : i + n] == needle:
            return i
    return -1


def word_offset(cue: str, event_text: str, previous_text: str | None = None) -> tuple[int, int] | None:
    """Where ``cue`` starts: (0, offset) in ``event_text``, (-1, offset) in ``previous_text``.

    ``None`` if neither its first nor its last ``PROBE_WORDS`` words occur verbatim.
    """
    cue_words, words = _words(cue), _words(event_text)
    head = cue_words[:PROBE_WORDS]
    if head and (at := _find(head, words)) >= 0:
        return 0, at
    tail = cue_words[-PROBE_WORDS:]
    if not tail or (at := _find(tail, words)) < 0:
        return None
    start = at - (len(cue_words) - len(tail))
    if start >= 0 or previous_text is None:
        return 0, max(start, 0)
    return -1, len(_words(previous_text)) + start


@dataclass(frozen=True, slots=True)
class Position:
    """A cue located in the stream: the event it starts in, its rank in stream order, the word offset."""

    event: Event
    rank: int
    offset: int
    exact: bool  # found verbatim (False: placed at the best-matching event by similarity)


@dataclass(frozen=True, slots=True)
class Order:
    """The answer of ``Memory.order(a, b)``: which came first, and where each cue was found."""

    first: str  # "a" or "b"
    a: Position
    b: Position

    @property
    def evidence(self) -> str:
        def describe(name: str, p: Position) -> str:
            how = "verbatim" if p.exact else "by similarity"
            return f"{name} at event #{p.rank} (+{p.offset} words, {how}, {p.event.occurred_at:%Y-%m-%d %H:%M})"

        return f"{self.first} came first: " + "; ".join([describe("a", self.a), describe("b", self.b)])
