"""Honest twins shared by several test modules (deterministic stand-ins for real components)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from engram.errors import LLMError
from engram.llm.extraction import Claim, Utterance

_PATTERNS = (
    ("lives_in", re.compile(r"\bI live in ([A-Z]\w+)"), "place"),
    ("moved_to", re.compile(r"\bI moved to ([A-Z]\w+)"), "place"),
    ("likes", re.compile(r"\bI (?:like|love) (\w+)"), None),
    ("dislikes", re.compile(r"\bI (?:dislike|hate) (\w+)"), None),
    ("has_pet", re.compile(r"\bmy dog ([A-Z]\w+)"), "pet"),
    ("works_at", re.compile(r"\bI work at ([A-Z]\w+)"), "organisation"),
)


class TwinExtractor:
    """Deterministic first-person patterns; counts the utterances it has read."""

    name = "twin"

    def __init__(self, fail_after: int | None = None) -> None:
        self.read = 0
        self.fail_after = fail_after

    def extract(self, utterances: Sequence[Utterance]) -> list[Claim]:
        if self.fail_after is not None and self.read >= self.fail_after:
            raise LLMError("scripted failure")
        self.read += len(utterances)
        claims = []
        for u in utterances:
            for predicate, pattern, kind in _PATTERNS:
                for m in pattern.finditer(u.text):
                    claims.append(Claim(u.speaker or "someone", predicate, m.group(1), u.key, None, kind, 0.8))
        return claims
