"""Summaries of a finished subgoal: extractive (offline, deterministic) or written by an LLM.

When a subgoal closes, its action/observation pairs leave working memory and a summary takes
their place (HiAgent). What a later step needs from a finished subgoal is mostly its *results*:
the hostnames, ports, ids, paths and numbers it found or made. The extractive summary is built
to keep those.

Extractive method (``ExtractiveSummarizer``):

1. Cut the subgoal's observations into clauses (at ``;``, ``,``, sentence ends and newlines)
   and find the *values* in each: tokens with a digit or with punctuation inside a word
   (``db-03.prod``, ``5433``, ``snap-0a1b``, ``/etc/orders.yaml``, ``v2.14.3``), and the parts
   of compound ones (a URL gives its host and port). An action is a clause only for an
   argument nothing before it mentioned (a hostname or path the agent chose, which no tool
   echoed), cut to the words around it: what else an action names the agent knew already.
2. Weigh each value. Its kind: 1 for an identifier; 0.5 for plain words joined by ``-`` or
   ``_`` (``log_level``, ``allkeys-lru``: as often a key or a status as a name); 0.25 for a
   measurement, a number with at most a short unit (``26G``, ``20%``, ``179``, ``0.37``: load,
   sizes and latencies change from one look to the next and rarely matter later). Then plus 2
   if a later action of the subgoal uses it (the agent acted on it, so the task depends on it)
   and plus 1 if the subgoal's last pair mentions it (its outcome), so that a port that was
   used outweighs an identifier nothing acted on. A value the run had seen before the subgoal
   opened (``known``) counts half: it is old news, carried by the summaries and the memory of
   the subgoals that found it, and recurring output (``p95``, ``/dev/nvme0n1p1``) is of this kind.
3. Always keep the last observation (the outcome), clipped to half the budget. Then take
   clauses greedily, the one holding the weightiest value not yet covered first (ties: more
   new weight per token), while some clause still brings a new value of weight ``MIN_GAIN``
   or more (a new identifier, or a used value) and the budget lasts. The kept clauses are laid
   out in step order.

So values that were used, or that the subgoal ended on, survive; readings nothing acted on are
the first thing left out, and the summary stops short of its budget rather than pad it with
them. What is left out is still in episodic memory, word for word.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Protocol

from engram.cognition.context import estimate_tokens
from engram.errors import InvalidInput, LLMError
from engram.llm.client import LLMClient, LLMConfig, Messages, Schema, Usage

__all__ = [
    "ExtractiveSummarizer",
    "LLMSummarizer",
    "Pair",
    "Summarizer",
    "check_summarizer",
    "clip",
    "mentions",
    "values",
]

Pair = tuple[int, str, str]  # (step, action, observation)

USED_BONUS = 2.0  # a value a later action used
OUTCOME_BONUS = 1.0  # a value the subgoal's last pair mentions
MEASURE_WEIGHT = 0.25  # a number with at most a short unit, against 1 for an identifier
WORDY_WEIGHT = 0.5  # plain words joined by - or _ (log_level, allkeys-lru): as often a key as a name
KNOWN_FACTOR = 0.5  # a value seen before the subgoal opened
MIN_GAIN = 1.0  # a clause is kept only for a new value of at least this weight
LONG_VALUE = 5
ACTION_TOKENS = 24  # a longer action is cut to the words around the argument it is kept for
ACTION_WORDS = 4
_MEASURE = re.compile(r"[#<>~+-]?\d+(?:[.,]\d+)?[A-Za-z%]{0,3}|\d{1,2}(?::\d\d){1,2}")  # 26G, 0.37, 12:00
_PARTS = re.compile(r"[:/@]+")
_WORDY = re.compile(r"[A-Za-z]+(?:[-_][A-Za-z]+)+")
_TOKEN = re.compile(r"[^\s,;=()\[\]{}<>\"'`|]+")
_INNER = re.compile(r"\w[./:_@-]\w")
_CLAUSE = re.compile(r"(?<=[.!?;])\s+|;\s*|,\s+|\n+")
_EDGE = ".:!?-"


def values(text: str) -> list[str]:
    """The value-like tokens of ``text``, in order: a digit, or punctuation inside a word.

    A compound token is followed by the values it is made of (``postgres://db-01.prod:5434/app``
    gives ``db-01.prod`` and ``5434`` too), so that a part used on its own counts as used.
    """
    found: dict[str, None] = {}
    for raw in _TOKEN.findall(text):
        token = raw.strip(_EDGE)
        if _is_value(token):
            found[token] = None
            if any(c.isalpha() for c in token):
                found.update((part, None) for part in _PARTS.split(token) if part != token and _is_value(part))
    return list(found)


def _is_value(token: str) -> bool:
    return len(token) >= 2 and (any(c.isdigit() for c in token) or _INNER.search(token) is not None)


def mentions(found: Collection[str], text: str, value: str) -> bool:
    """Whether ``text`` (whose values are ``found``) mentions ``value``: as one of its values, or,
    for a value of ``LONG_VALUE`` characters or more, inside one (``redis_version:7.0.9`` holds
    ``7.0.9``) or around one. Short values must match whole: "2024" is not in "orders-20240904"."""
    if value in found:
        return True
    return len(value) >= LONG_VALUE and (value in text or any(len(v) >= LONG_VALUE and v in value for v in found))


def clip(text: str, tokens: int) -> str:
    """``text`` cut to at most ``tokens`` estimated tokens, ending in "…" where it was cut."""
    if estimate_tokens(text) <= tokens:
        return text
    return text[: max(0, tokens * 4 - 1)] + "…"


class Summarizer(Protocol):
    """Writes the summary of a finished subgoal from its pairs (in step order).

    ``name`` says which summarizer wrote a summary. A summarizer that fails raises
    ``LLMError``; working memory then falls back to the extractive summary and says so.
    """

    name: str

    def summarize(self, goal: str, pairs: Sequence[Pair], *, max_tokens: int) -> str: ...


class ExtractiveSummarizer:
    """The offline summary: the outcome and the clauses that keep the most used values."""

    name = "extractive"

    def summarize(
        self, goal: str, pairs: Sequence[Pair], *, max_tokens: int, known: Collection[str] = frozenset()
    ) -> str:
        """The summary of ``pairs`` in at most ``max_tokens``; ``known`` are the values the run had
        seen before the subgoal opened."""
        if not pairs:
            return f"{goal}: no steps."
        clauses = _clauses(pairs, known)
        weights = _weights(clauses, pairs, known)
        outcome = clip(_flat(pairs[-1][2]), max_tokens // 2)
        head = f"{len(pairs)} steps; last: {outcome}"
        chosen = _cover(clauses, weights, set(values(outcome)), max_tokens - estimate_tokens(head) - 2)
        kept = [text for _, text in sorted(chosen)]
        return head + (" | found: " + "; ".join(kept) if kept else "")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _clauses(pairs: Sequence[Pair], known: Collection[str]) -> list[tuple[int, str, list[str]]]:
    """(step index, clause, its values) for every clause of an observation that holds a value,
    and for an action that names an argument nothing before it did (see ``_chosen``)."""
    out: list[tuple[int, str, list[str]]] = []
    seen, earlier = set(known), " ".join(known)
    for index, (_, action, observation) in enumerate(pairs):
        parts = [part for part in _CLAUSE.split(observation) if values(part)]
        seen.update(values(observation))
        earlier += "\n" + observation
        chosen = _chosen(action, seen, earlier)
        if chosen:
            out.append((index, _around(action, chosen[0]), chosen))
        out += [(index, _flat(part), values(part)) for part in parts]
        seen.update(values(action))
        earlier += "\n" + action
    return out


def _chosen(action: str, seen: Collection[str], earlier: str) -> list[str]:
    """The arguments of ``action`` that nothing before mentioned: a name or path the agent chose.

    Only values with a digit, a dot or a slash, of four characters or more, count: the rest of
    an action's tokens are mostly commands and flags (``describe-instances``, ``s_client``).
    """
    return [
        v
        for v in values(action)
        if len(v) >= 4 and any(c.isdigit() or c in "./" for c in v) and not mentions(seen, earlier, v)
    ]


def _around(action: str, value: str) -> str:
    """``action``, or where it is long, the words that lead up to ``value`` and the word holding it."""
    words = action.split()
    if estimate_tokens(action) <= ACTION_TOKENS:
        return " ".join(words)
    at = next((i for i, word in enumerate(words) if value in word), len(words) - 1)
    return "… " + " ".join(words[max(0, at - ACTION_WORDS) : at + 1])


def _weights(
    clauses: list[tuple[int, str, list[str]]], pairs: Sequence[Pair], known: Collection[str]
) -> dict[str, float]:
    """Each value's weight (see the module docstring)."""
    last = " ".join(pairs[-1][1:])
    weights: dict[str, float] = {}
    for position, _, found in clauses:
        later = " ".join(pairs[i][1] for i in range(position + 1, len(pairs)))
        used = set(values(later))
        for value in found:
            weight = MEASURE_WEIGHT if _MEASURE.fullmatch(value) else WORDY_WEIGHT if _WORDY.fullmatch(value) else 1.0
            if mentions(used, later, value):
                weight += USED_BONUS
            weight += OUTCOME_BONUS if value in last else 0.0
            weight *= KNOWN_FACTOR if value in known else 1.0
            weights[value] = max(weights.get(value, 0.0), weight)
    return weights


def _cost(clause: str) -> int:
    return estimate_tokens(clause) + 1  # and its separator


def _cover(
    clauses: list[tuple[int, str, list[str]]], weights: dict[str, float], covered: set[str], budget: int
) -> list[tuple[int, str]]:
    """Greedy coverage of the weightiest values within ``budget`` tokens (see the module docstring)."""
    chosen: list[tuple[int, str]] = []
    left = list(clauses)
    covered = set(covered)
    while left and budget > 0:
        fresh = [set(found) - covered for _, _, found in left]
        new = [sum(weights[v] for v in vs) for vs in fresh]
        worth = [i for i in range(len(left)) if max((weights[v] for v in fresh[i]), default=0.0) >= MIN_GAIN]
        if not worth:
            break
        best = max(worth, key=lambda i: (max(weights[v] for v in fresh[i]), new[i] / _cost(left[i][1]), -left[i][0]))
        position, text, found = left.pop(best)
        cost = _cost(text)
        if cost <= budget and text not in (t for _, t in chosen):
            chosen.append((position, text))
            covered.update(found)
            budget -= cost
    return chosen


SYSTEM_PROMPT = """\
You summarise one finished subgoal of an AI agent's task for the agent's working memory.
The agent will read only your summary later, not the steps, so keep verbatim every concrete
value a later step may need: hostnames, addresses, ports, ids, file paths, versions, names,
counts. Say first how the subgoal ended. Leave out routine output that nothing depends on.
Answer {"summary": "..."} in at most %d words."""

ANSWER_SCHEMA: Schema = {
    "type": "object",
    "properties": {"summary": {"type": "string"}},
    "required": ["summary"],
    "additionalProperties": False,
}


class LLMSummarizer:
    """A summary written by an LLM through an OpenAI-compatible endpoint, one call per subgoal.

    ``usage`` sums every call's tokens and counters, failed calls included.
    """

    def __init__(self, client: LLMClient | LLMConfig) -> None:
        self.client = LLMClient(client) if isinstance(client, LLMConfig) else client
        self.name = f"llm:{self.client.config.model}"
        self.usage = Usage()

    def summarize(self, goal: str, pairs: Sequence[Pair], *, max_tokens: int) -> str:
        """The LLM's summary.

        Raises:
            LLMError: the endpoint failed after its retries, or the summary is empty.
        """
        before = self.client.usage
        try:
            messages = _prompt(goal, pairs, max_tokens)
            answer, _ = self.client.complete_json(messages, schema=ANSWER_SCHEMA, name="summary")
        finally:
            self.usage += self.client.usage - before
        text = _flat(answer["summary"])
        if not text:
            raise LLMError(f"{self.name} returned an empty summary for subgoal {goal[:60]!r}")
        return text


def _prompt(goal: str, pairs: Sequence[Pair], max_tokens: int) -> Messages:
    words = max(10, max_tokens * 3 // 4)  # ~0.75 words per token
    steps = "\n".join(f"[{step}] {_flat(action)} -> {_flat(observation)}" for step, action, observation in pairs)
    user = f"Subgoal: {goal}\nSteps:\n{steps}"
    return [{"role": "system", "content": SYSTEM_PROMPT % words}, {"role": "user", "content": user}]


def check_summarizer(summarizer: object) -> Summarizer:
    """``summarizer`` if it has a ``name`` and a ``summarize`` method, else ``InvalidInput``."""
    if not isinstance(getattr(summarizer, "name", None), str) or not callable(getattr(summarizer, "summarize", None)):
        raise InvalidInput(
            f"summarizer must be None, an LLMConfig or an object with name and summarize(); got {summarizer!r}"
        )
    return summarizer  # type: ignore[return-value]
