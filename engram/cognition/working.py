"""Working memory for one agent run: a few active items, chunked by subgoal (HiAgent), competitive (PMI).

An agent opens a subgoal (``push_subgoal``), records each action and what it observed
(``observe``) and closes the subgoal when it is done (``close_subgoal``). Working memory holds
the action/observation pairs of the open subgoals as *items*, within two limits: ``max_items``
items and ``max_tokens`` estimated tokens in all. Subgoals nest: a subgoal pushed inside another
is the current goal until it closes, and the enclosing subgoals' items stay.

Competitive write. An item that would overflow either limit does not bounce: the *least active*
other item is displaced, again until both limits hold. Activation at step ``t`` (the number of
pairs observed so far) of an item last used at step ``u``::

    activation = RECENCY_WEIGHT * 0.5 ** ((t - u) / HALF_LIFE_STEPS)
                 + (1 - RECENCY_WEIGHT) * max(0, cos(item, current goal))

with unit embeddings from ``memory.embedder`` (of the pair's text and of the goal), in [0, 1].
``RECENCY_WEIGHT = 0.3`` and ``HALF_LIFE_STEPS = 10`` were chosen on the agent trace
(``engram.eval.agent_trace``; 0.5 and 5 kept fewer of the values later steps needed): what a
step is about outweighs how new it is, so a routine reading just taken yields to a relevant
result of a few steps ago. An item is *used* when it is added and whenever
a later action mentions one of its values (a hostname, port, id, path, number: see
``summaries.values``): acting on an item rehearses it. Ties go to the older item. The
displaced item is written to long-term memory (``Memory.remember``, metadata
``displaced=True``) before it leaves, so it is recalled later rather than lost;
``displaced`` counts them. A pair longer than ``max_tokens`` by itself is kept clipped, and
written in full to long-term memory at once.

Closing a subgoal replaces its pairs by a summary: the one given, else the summarizer's (an
LLM where one is configured), else the extractive one (``engram.cognition.summaries``). A
summarizer that fails is logged, recorded on the summary (``method="extractive"``,
``fallback_reason``) and replaced by the extractive summary. Every pair of the subgoal not yet
in long-term memory, and the summary, are written in one ``Memory.remember_many`` (session = the
run, metadata ``kind="working"``, ``subgoal``, ``step``). Summaries are kept beside the items,
outside their limits; ``context`` ranks them.

One agent run, one thread: nothing here is locked. The state is plain to see: ``goals``,
``items``, ``summaries``, ``displaced``, ``step``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from engram.cognition.context import SectionPacker, estimate_tokens, line_tokens
from engram.cognition.summaries import (
    ExtractiveSummarizer,
    LLMSummarizer,
    Summarizer,
    check_summarizer,
    clip,
    mentions,
    values,
)
from engram.config import RRF_K
from engram.core import validate
from engram.core.records import Hit, new_id, utcnow
from engram.errors import InvalidInput, LLMError
from engram.index.lexical import LexicalIndex, query_terms
from engram.llm.client import LLMConfig, Usage

if TYPE_CHECKING:
    from engram.interfaces.api import Memory

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_SUMMARY_TOKENS",
    "HALF_LIFE_STEPS",
    "GOAL_RECALL_WEIGHT",
    "RECALL_FLOOR",
    "RECENCY_WEIGHT",
    "SubgoalSummary",
    "WorkingContext",
    "WorkingItem",
    "WorkingMemory",
]

logger = logging.getLogger("engram.working")

DEFAULT_MAX_ITEMS = 7  # Miller's "seven, plus or minus two"
DEFAULT_MAX_TOKENS = 1024
DEFAULT_SUMMARY_TOKENS = 200
HALF_LIFE_STEPS = 10.0  # recency halves every ten steps without use
RECENCY_WEIGHT = 0.3
RECALL_K = 10  # long-term hits asked for by ``context``
RECALL_FLOOR = 0.35  # of the budget left after goals and items, kept from summaries for recalls
GOAL_RECALL_WEIGHT = 0.25  # of the goal's recall ranking beside the query's (measured on the agent trace)
MIN_BUDGET_TOKENS = 16
MIN_ITEM_TOKENS = 16
_TOUCH_CHARS = 3  # shorter values ("v2", "10") name too many things to count as a use
_SECTIONS = ("## Goals", "## Working memory", "## Closed subgoals", "## From long-term memory")


@dataclass(frozen=True, slots=True)
class WorkingItem:
    """One action/observation pair in working memory.

    ``step`` is its place in the run (1, 2, …), ``goal`` the subgoal it was observed under,
    ``depth`` that subgoal's place on the stack (0 = outermost). ``last_used`` is the step it
    was added or last acted on; ``tokens`` its estimated size as a context line. ``clipped``
    items hold a cut observation (the full pair is in long-term memory, ``event_id``).
    """

    step: int
    goal: str
    depth: int
    action: str
    observation: str
    tokens: int
    last_used: int
    observed_at: datetime
    vector: np.ndarray = field(compare=False, repr=False)
    clipped: bool = False
    event_id: str | None = None

    @property
    def text(self) -> str:
        """The pair as one text: ``action → observation``."""
        return f"{self.action} → {self.observation}"

    def line(self) -> str:
        return f"[step {self.step}] {self.text}"


@dataclass(frozen=True, slots=True)
class SubgoalSummary:
    """What is left of a closed subgoal in working memory, and where its detail went.

    ``method`` is ``"given"``, ``"extractive"``, ``"llm"`` or the name of another summarizer;
    ``fallback_reason`` says why the summarizer was not used where it failed (the summary is then
    extractive). ``event_id`` is the summary's event in long-term memory, ``detail_ids`` the
    events of its pairs in step order. ``usage`` is the LLM's, where one was asked.
    """

    goal: str
    text: str
    method: str
    first_step: int | None
    last_step: int | None
    pairs: int
    parents: tuple[str, ...]
    event_id: str
    detail_ids: tuple[str, ...]
    vector: np.ndarray = field(compare=False, repr=False)
    fallback_reason: str | None = None
    usage: Usage | None = None

    def line(self) -> str:
        steps = f"steps {self.first_step}-{self.last_step}" if self.pairs else "no steps"
        return f"- {self.goal} ({steps}): {self.text}"


@dataclass(frozen=True, slots=True)
class WorkingContext:
    """A prompt-ready block from working memory within a token budget, and what it holds.

    ``goals`` current first; ``items`` in step order; ``summaries`` most relevant first;
    ``recalled`` the long-term hits added, best first. ``tokens`` <= ``budget_tokens``.
    """

    text: str
    tokens: int
    budget_tokens: int
    goals: tuple[str, ...]
    items: tuple[WorkingItem, ...]
    summaries: tuple[SubgoalSummary, ...]
    recalled: tuple[Hit, ...]


@dataclass
class _Frame:
    """An open subgoal: its goal and every pair observed under it (full text), by step."""

    goal: str
    vector: np.ndarray
    opened: int  # the first step that can belong to it
    log: dict[int, WorkingItem] = field(default_factory=dict)


class WorkingMemory:
    """The working memory of one agent run, over a ``Memory`` for what leaves it.

    Args:
        memory: the long-term memory displaced items and closed subgoals are written to.
        namespace: the namespace they are written to and recalled from.
        run: the session label of this run's events (default: a new ``run-<id>``).
        max_items / max_tokens: the capacity, by count and by estimated tokens.
        summary_tokens: the length an extractive summary is held to (and an LLM is asked for).
        summarizer: ``None`` uses an LLM when ``ENGRAM_LLM_URL`` and ``ENGRAM_LLM_MODEL`` are
            set and the extractive summary otherwise; an ``LLMConfig`` uses that endpoint; any
            object with ``name`` and ``summarize(goal, pairs, *, max_tokens)`` is used as is.
        clock: when each pair happened (its event time in long-term memory); default: now.

    Raises:
        InvalidInput: an argument is out of range or of the wrong type.
    """

    def __init__(
        self,
        memory: Memory,
        *,
        namespace: str = "default",
        run: str | None = None,
        max_items: int = DEFAULT_MAX_ITEMS,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        summary_tokens: int = DEFAULT_SUMMARY_TOKENS,
        summarizer: Summarizer | LLMConfig | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if clock is not None and not callable(clock):
            raise InvalidInput(f"clock must be a function returning an aware datetime, got {clock!r}")
        if not all(hasattr(memory, name) for name in ("remember", "remember_many", "recall", "embedder")):
            raise InvalidInput(f"memory must be an engram Memory, got {type(memory).__name__}")
        self.memory = memory
        self.namespace = validate.namespace(namespace)
        self.run = validate.label(run, "run") or f"run-{new_id()}"
        self.max_items = _count(max_items, "max_items", 1)
        self.max_tokens = _count(max_tokens, "max_tokens", MIN_ITEM_TOKENS)
        self.summary_tokens = _count(summary_tokens, "summary_tokens", MIN_ITEM_TOKENS)
        self.summarizer = _summarizer(summarizer)
        self.displaced = 0
        self._clock = clock or utcnow
        self._extractive = ExtractiveSummarizer()
        self._frames: list[_Frame] = []
        self._items: list[WorkingItem] = []
        self._summaries: list[SubgoalSummary] = []
        self._lexicon = LexicalIndex()  # BM25 over the summaries, row i = summaries[i]
        self._step = 0
        self._first_seen: dict[str, int] = {}  # value -> the step it first appeared in

    def __repr__(self) -> str:
        return (
            f"WorkingMemory(run={self.run!r}, goals={len(self._frames)}, items={len(self._items)}/{self.max_items}, "
            f"tokens={self.tokens}/{self.max_tokens}, summaries={len(self._summaries)}, displaced={self.displaced})"
        )

    # -- state ----------------------------------------------------------------------------

    @property
    def goals(self) -> tuple[str, ...]:
        """The open subgoals, outermost first (the last is the current goal)."""
        return tuple(frame.goal for frame in self._frames)

    @property
    def items(self) -> tuple[WorkingItem, ...]:
        """The items held now, in step order."""
        return tuple(self._items)

    @property
    def summaries(self) -> tuple[SubgoalSummary, ...]:
        """The summaries of closed subgoals, in the order they closed."""
        return tuple(self._summaries)

    @property
    def step(self) -> int:
        """How many pairs have been observed in this run."""
        return self._step

    @property
    def tokens(self) -> int:
        """The estimated tokens of the items held now."""
        return sum(item.tokens for item in self._items)

    def activation(self, item: WorkingItem) -> float:
        """The item's activation now (see the module docstring), in [0, 1]."""
        recency = 0.5 ** ((self._step - item.last_used) / HALF_LIFE_STEPS)
        relevance = max(0.0, float(item.vector @ self._frames[-1].vector)) if self._frames else 0.0
        return RECENCY_WEIGHT * recency + (1.0 - RECENCY_WEIGHT) * min(1.0, relevance)

    # -- subgoals and steps ---------------------------------------------------------------

    def push_subgoal(self, goal: str) -> None:
        """Open a subgoal inside the current one; it becomes the current goal."""
        goal = " ".join(validate.text(goal, "goal").split())
        self._frames.append(_Frame(goal, self._embed(goal), opened=self._step + 1))

    def observe(self, action: str, observation: str) -> WorkingItem:
        """Add an action and what it observed under the current subgoal; return the item.

        Items it acts on (their values appear in ``action``) count as used. Where the limits
        would be exceeded, the least active other items are displaced to long-term memory.

        Raises:
            InvalidInput: empty action or observation, or no subgoal is open.
        """
        if not self._frames:
            raise InvalidInput("observe needs an open subgoal: call push_subgoal(goal) first")
        action = validate.text(action, "action")
        observation = validate.text(observation, "observation")
        full = self._new_item(self._step + 1, action, observation)
        item = self._fit(full)  # may write to long-term memory: the step counts once that is done
        self._step = full.step
        self._frames[-1].log[full.step] = replace(full, event_id=item.event_id)
        self._touch(action)
        for value in values(f"{action} {observation}"):
            self._first_seen.setdefault(value, self._step)
        self._items.append(item)
        self._make_room(keep=item)
        return item

    def close_subgoal(self, summary: str | None = None) -> SubgoalSummary:
        """Close the current subgoal: its pairs leave working memory, a summary takes their place.

        The pairs not yet in long-term memory and the summary are written there in one
        transaction. Returns the summary, which says how it was made.

        Raises:
            InvalidInput: no subgoal is open, or ``summary`` is given but empty.
            StoreError: the write failed; working memory is then unchanged.
        """
        if not self._frames:
            raise InvalidInput("close_subgoal: no subgoal is open")
        given = None if summary is None else " ".join(validate.text(summary, "summary").split())
        frame, depth = self._frames[-1], len(self._frames) - 1
        pairs = list(frame.log.values())
        text, method, reason, usage = self._summary_text(frame, pairs, given)
        parents = self.goals[:-1]
        rows = [(item, item.event_id or new_id()) for item in pairs]
        summary_id = new_id()
        detail_ids = tuple(event_id for _, event_id in rows)
        written = [self._row(item, event_id) for item, event_id in rows if item.event_id is None]
        meta = {"part": "summary", "method": method, "pairs": len(pairs), "detail": list(detail_ids)}
        steps = (pairs[0].step, pairs[-1].step) if pairs else (None, None)
        meta.update(first_step=steps[0], last_step=steps[1], step=self._step)
        written.append(
            {"id": summary_id, "text": f"{frame.goal}: {text}", "session": self.run, "metadata": self._meta(meta)}
        )
        self.memory.remember_many(written, namespace=self.namespace)
        record = SubgoalSummary(
            goal=frame.goal,
            text=text,
            method=method,
            first_step=steps[0],
            last_step=steps[1],
            pairs=len(pairs),
            parents=parents,
            event_id=summary_id,
            detail_ids=detail_ids,
            vector=self._embed(f"{frame.goal}: {text}"),
            fallback_reason=reason,
            usage=usage,
        )
        self._frames.pop()
        self._items = [item for item in self._items if item.depth != depth]
        self._summaries.append(record)
        self._lexicon.add([f"{record.goal} {record.text}"])
        return record

    # -- context --------------------------------------------------------------------------

    def context(self, budget_tokens: int, *, query: str | None = None) -> WorkingContext:
        """A prompt-ready block within ``budget_tokens``, filled in this priority:

        1. the goal stack, current goal first;
        2. the items, those of the current subgoal first, each group most active first
           (laid out in step order);
        3. summaries of closed subgoals, most relevant to the current goal (and ``query``) first;
        4. long-term recalls for the current goal and ``query`` (``Memory.recall`` in this
           namespace), leaving out what the block already holds.

        Summaries leave ``RECALL_FLOOR`` of what the goals and items left to the recalls, so that
        a long run's summaries cannot crowd out the detail recalled for this step; what the
        recalls do not use goes to further summaries. Whatever does not fit is left out (a
        shorter, lower-ranked entry may still fit). Sections are laid out in the order above.

        Raises:
            InvalidInput: ``budget_tokens`` is not an integer of at least 16, or ``query`` is empty.
        """
        budget_tokens = _count(budget_tokens, "budget_tokens", MIN_BUDGET_TOKENS)
        query = None if query is None else validate.text(query, "query")
        packer = SectionPacker(budget_tokens, _SECTIONS)
        goals = tuple(reversed(self.goals))
        lines = [f"{'current goal' if i == 0 else 'within'}: {goal}" for i, goal in enumerate(goals)]
        if lines:  # the current goal always shows, clipped to the budget if need be
            lines[0] = clip(lines[0], budget_tokens - line_tokens(_SECTIONS[0]) - 1)
        packer.take(0, lines)
        items = self._ranked_items()
        taken = packer.take(1, [item.line() for item in items], keys=[item.step for item in items])
        chosen_items = tuple(sorted((items[i] for i in taken), key=lambda item: item.step))
        summaries = self._ranked_summaries(query)
        summary_lines = [s.line() for s in summaries]
        taken = packer.take(2, summary_lines, reserve=int(RECALL_FLOOR * packer.left))
        shown = {summaries[i].event_id for i in taken} | {i.event_id for i in chosen_items if i.event_id}
        hits = self._recalled(query, shown)
        recalled = packer.take(3, [self._hit_line(hit) for hit in hits])
        in_recall = {hits[i].event.id for i in recalled}
        skip = set(taken) | {i for i, s in enumerate(summaries) if s.event_id in in_recall}
        taken += packer.take(2, summary_lines, skip=skip)
        text = packer.text()
        return WorkingContext(
            text=text,
            tokens=estimate_tokens(text) if text else 0,
            budget_tokens=budget_tokens,
            goals=goals,
            items=chosen_items,
            summaries=tuple(summaries[i] for i in sorted(taken)),
            recalled=tuple(hits[i] for i in recalled),
        )

    # -- internals ------------------------------------------------------------------------

    def _embed(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.memory.embedder.embed([text])[0]
        return vector

    def _new_item(self, step: int, action: str, observation: str) -> WorkingItem:
        item = WorkingItem(
            step=step,
            goal=self._frames[-1].goal,
            depth=len(self._frames) - 1,
            action=action,
            observation=observation,
            tokens=0,
            last_used=step,
            observed_at=validate.moment(self._clock(), "clock()"),
            vector=self._embed(f"{action} → {observation}"),
        )
        return replace(item, tokens=line_tokens(item.line()))

    def _fit(self, item: WorkingItem) -> WorkingItem:
        """``item`` as it fits ``max_tokens``: clipped, and written whole to long-term memory, if too long."""
        if item.tokens <= self.max_tokens:
            return item
        action = clip(item.action, self.max_tokens // 4)
        room = self.max_tokens - line_tokens(replace(item, action=action, observation="").line())
        clipped = replace(item, action=action, observation=clip(item.observation, max(room, 0)), clipped=True)
        clipped = replace(clipped, tokens=line_tokens(clipped.line()))
        event = self.memory.remember_many([self._row(item, new_id(), clipped=True)], namespace=self.namespace)[0]
        return replace(clipped, event_id=event.id)

    def _touch(self, action: str) -> None:
        """Mark as used now every item that holds a value ``action`` mentions (``summaries.mentions``)."""
        used = [v for v in dict.fromkeys(values(action)) if len(v) >= _TOUCH_CHARS]
        if used:
            self._items = [
                replace(item, last_used=self._step) if _acts_on(used, item) else item for item in self._items
            ]

    def _make_room(self, keep: WorkingItem) -> None:
        """Displace the least active items other than ``keep`` until both limits hold."""
        while len(self._items) > self.max_items or self.tokens > self.max_tokens:
            others = [item for item in self._items if item is not keep]
            if not others:
                return  # ``keep`` alone fits: ``_fit`` clipped it to max_tokens
            self._displace(min(others, key=lambda item: (self.activation(item), item.step)))

    def _displace(self, item: WorkingItem) -> None:
        frame = self._frames[item.depth]
        if item.event_id is None:
            full = frame.log[item.step]
            [event] = self.memory.remember_many([self._row(full, new_id(), displaced=True)], namespace=self.namespace)
            frame.log[item.step] = replace(full, event_id=event.id)
        self._items.remove(item)
        self.displaced += 1
        logger.debug("displaced step %d (activation %.3f) to long-term memory", item.step, self.activation(item))

    def _row(self, item: WorkingItem, event_id: str, **flags: bool) -> dict[str, Any]:
        """The ``remember_many`` item of a pair."""
        meta = {"part": "pair", "step": item.step, "subgoal": item.goal, **flags}
        return {
            "id": event_id,
            "text": item.text,
            "session": self.run,
            "occurred_at": item.observed_at,
            "metadata": self._meta(meta, goals=self.goals[: item.depth + 1]),
        }

    def _meta(self, extra: Mapping[str, Any], goals: Sequence[str] | None = None) -> dict[str, Any]:
        goals = self.goals if goals is None else goals
        return {"kind": "working", "run": self.run, "subgoal": goals[-1], "goals": list(goals), **extra}

    def _summary_text(
        self, frame: _Frame, pairs: list[WorkingItem], given: str | None
    ) -> tuple[str, str, str | None, Usage | None]:
        """(text, method, fallback reason, LLM usage) of a closing subgoal's summary."""
        if given is not None:
            return given, "given", None, None
        goal, steps = frame.goal, [(item.step, item.action, item.observation) for item in pairs]
        known = {value for value, step in self._first_seen.items() if step < frame.opened}
        offline = self._extractive
        if isinstance(self.summarizer, ExtractiveSummarizer) or not steps:
            text = offline.summarize(goal, steps, max_tokens=self.summary_tokens, known=known)
            return text, "extractive", None, None
        llm = self.summarizer if isinstance(self.summarizer, LLMSummarizer) else None
        before = llm.usage if llm else Usage()
        method = "llm" if llm else self.summarizer.name
        try:
            text = self.summarizer.summarize(goal, steps, max_tokens=self.summary_tokens)
            return text, method, None, (llm.usage - before) if llm else None
        except LLMError as exc:
            logger.warning("%s failed to summarise subgoal %r; using the extractive summary: %s", method, goal, exc)
            text = offline.summarize(goal, steps, max_tokens=self.summary_tokens, known=known)
            return text, "extractive", f"{self.summarizer.name}: {exc}", (llm.usage - before) if llm else None

    def _ranked_items(self) -> list[WorkingItem]:
        """Items of the current subgoal, most active first, then those of the enclosing ones."""
        current = len(self._frames) - 1
        return sorted(self._items, key=lambda item: (item.depth != current, -self.activation(item), -item.step))

    def _ranked_summaries(self, query: str | None) -> list[SubgoalSummary]:
        """Summaries by reciprocal-rank fusion of cosine and BM25 to the current goal and ``query``
        (as ``Memory.recall`` fuses its rankings); the latest first when there is neither."""
        cue = self._cue(query)
        if cue is None or not self._summaries:
            return self._summaries[::-1]
        dense = np.argsort([-float(s.vector @ cue) for s in self._summaries], kind="stable")
        fused = np.zeros(len(self._summaries))
        fused[dense] += 1.0 / (RRF_K + np.arange(1, len(dense) + 1))
        words = " ".join(part for part in (self.goals[-1] if self._frames else None, query) if part)
        for rank, (row, _) in enumerate(self._lexicon.search(query_terms(words), len(self._summaries)), start=1):
            fused[row] += 1.0 / (RRF_K + rank)
        return [self._summaries[i] for i in np.argsort(-fused, kind="stable")]

    def _cue(self, query: str | None) -> np.ndarray | None:
        parts = [self._frames[-1].vector] if self._frames else []
        if query is not None:
            parts.append(self._embed(query))
        if not parts:
            return None
        cue = np.sum(parts, axis=0)
        norm = float(np.linalg.norm(cue))
        return cue / norm if norm else cue

    def _recalled(self, query: str | None, exclude: set[str]) -> list[Hit]:
        """Long-term hits for ``query`` and the current goal, fused by reciprocal rank, the goal's
        ranking at ``GOAL_RECALL_WEIGHT``: the goal is shared by every step of the subgoal and, at
        full weight, fills the section with its routine steps."""
        cues = [(query, 1.0), (self._frames[-1].goal if self._frames else None, GOAL_RECALL_WEIGHT if query else 1.0)]
        fused: dict[str, float] = {}
        found: dict[str, Hit] = {}
        for cue, weight in cues:
            if cue is None:
                continue
            hits = self.memory.recall(cue, namespace=self.namespace, k=RECALL_K, at=self._clock())
            for rank, hit in enumerate(hits, start=1):
                if hit.event.id not in exclude:
                    fused[hit.event.id] = fused.get(hit.event.id, 0.0) + weight / (RRF_K + rank)
                    found[hit.event.id] = hit
        return [found[i] for i in sorted(fused, key=lambda i: -fused[i])][:RECALL_K]

    def _hit_line(self, hit: Hit) -> str:
        meta = hit.event.metadata
        if meta.get("kind") == "working" and isinstance(meta.get("step"), int):
            where = f"step {meta['step']}" if meta.get("run") == self.run else f"{meta.get('run')} step {meta['step']}"
        else:
            where = f"{hit.event.occurred_at:%Y-%m-%d %H:%M}"
        return f"[{where}] {' '.join(hit.event.text.split())}"


def _acts_on(used: Sequence[str], item: WorkingItem) -> bool:
    found = set(values(item.text))
    return any(mentions(found, item.text, value) for value in used)


def _count(value: Any, what: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidInput(f"{what} must be an integer of at least {least}, got {value!r}")
    return value


def _summarizer(value: Summarizer | LLMConfig | None) -> Summarizer:
    """The summarizer to use: the LLM of the environment or of ``value``, or ``value``, or extractive."""
    if value is None:
        value = LLMConfig.from_env()
        return ExtractiveSummarizer() if value is None else LLMSummarizer(value)
    if isinstance(value, LLMConfig):
        return LLMSummarizer(value)
    return check_summarizer(value)
