"""Pack recalled events into a prompt-ready block within a token budget."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

from engram.core.records import Context, Event, Hit

__all__ = ["SectionPacker", "estimate_tokens", "line_tokens", "pack"]


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: ~4 characters per token for English (GPT-style BPE)."""
    return max(1, math.ceil(len(text) / 4))


def line_tokens(line: str) -> int:
    """What one line costs in a block: its text and its newline."""
    return estimate_tokens(line + "\n")


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


class SectionPacker:
    """Lines taken into the sections of a block while they fit a token budget.

    Each line is charged ``estimate_tokens(line + "\\n")``, a header once with its first line;
    the sum bounds the estimate of the joined text from above, so the block never exceeds the
    budget. Sections are laid out in the order of ``headers``, each by its lines' keys.
    """

    def __init__(self, budget: int, headers: Sequence[str]) -> None:
        self.left = budget
        self.headers = tuple(headers)
        self.sections: dict[int, list[tuple[int, str]]] = {}

    def take(
        self,
        section: int,
        lines: Sequence[str],
        *,
        keys: Sequence[int] | None = None,
        reserve: int = 0,
        skip: Collection[int] = (),
    ) -> list[int]:
        """Take ``lines`` best first while they fit, leaving ``reserve`` tokens; return the indices taken.

        ``keys`` are what the taken lines are laid out by (default: their index).
        """
        taken: list[int] = []
        entries = self.sections.setdefault(section, [])
        for index, line in enumerate(lines):
            cost = line_tokens(line) + (0 if entries else line_tokens(self.headers[section]))
            if index not in skip and cost <= self.left - reserve:
                entries.append((index if keys is None else keys[index], line))
                taken.append(index)
                self.left -= cost
        return taken

    def text(self) -> str:
        lines: list[str] = []
        for section, entries in sorted(self.sections.items()):
            if entries:
                lines += [self.headers[section], *(line for _, line in sorted(entries))]
        return "\n".join(lines)
