"""Pack recalled events into a prompt-ready block within a token budget."""

from __future__ import annotations

import math
from collections.abc import Sequence

from engram.core.records import Context, Event, Hit

__all__ = ["estimate_tokens", "pack"]


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: ~4 characters per token for English (GPT-style BPE)."""
    return max(1, math.ceil(len(text) / 4))


def _line(event: Event) -> str:
    who = f"{event.speaker}: " if event.speaker else ""
    return f"[{event.occurred_at:%Y-%m-%d %H:%M}] {who}{event.text}"


def _header(session: str | None, first: Event) -> str:
    name = f"session {session}" if session else "no session"
    return f"## {name} ({first.occurred_at:%Y-%m-%d})"


def pack(hits: Sequence[Hit], budget_tokens: int) -> Context:
    """Take hits best-first while they fit, then lay them out grouped by session in time order."""
    chosen: list[Event] = []
    sessions: set[str | None] = set()
    used = 0
    for hit in hits:
        cost = estimate_tokens(_line(hit.event)) + 1
        if hit.event.session not in sessions:
            cost += estimate_tokens(_header(hit.event.session, hit.event)) + 2
        if used + cost > budget_tokens:
            continue  # a shorter, lower-ranked hit may still fit
        chosen.append(hit.event)
        sessions.add(hit.event.session)
        used += cost
    groups: dict[str | None, list[Event]] = {}
    for event in sorted(chosen, key=lambda e: (e.occurred_at, e.id)):
        groups.setdefault(event.session, []).append(event)
    blocks = ["\n".join([_header(s, evs[0]), *map(_line, evs)]) for s, evs in groups.items()]
    ordered = tuple(e for evs in groups.values() for e in evs)
    text = "\n\n".join(blocks)
    return Context(text=text, events=ordered, tokens=estimate_tokens(text) if text else 0, budget_tokens=budget_tokens)
