"""A long synthetic agent trace replayed through ``WorkingMemory``: how small the context stays, and
whether it still holds what each step needs.

The trace (``agent_trace``) is a DevOps migration (``engram.eval.trace_plan``): a root task with
eleven subgoals, three of them with nested subgoals of their own. Its scripted steps state concrete
values (hostnames, ports, ids, paths, digests, counts) and later steps act on them: within the
subgoal, in a nested subgoal on the enclosing one's results, and across subgoals on the results
of closed ones (the report at the end needs values from every part of the run). Between the
scripted steps come steps that return to an earlier value (a ping of a host found long before,
an ``ls`` of a path) and routine steps whose numbers nothing needs (load, disk, dashboards),
placed at random. A step *needs* a value when its action writes it (or, for a few, when it
compares against it) and an earlier step stated it; the need is met when the value's string is
in the context the step was given. Everything is drawn from one seed.

Replay: before each step the agent asks ``working.context(budget, query=intent)``, where the
intent says what the step is for ("measure the size of the orders database") without its values;
then it observes the step, recorded the way ReAct-style agents record one (the thought, then the
command: ``"<intent>: <command>"`` → observation), and subgoals open and close as the trace says.
Pairs get event times 40 s apart, so the figures do not depend on the machine. Measured at every step:
the context's tokens against those of the full history so far (every earlier pair and the goal
stack, laid out the same way), and whether every needed value is in the context. Two baselines
get the same budget: the latest steps that fit (a sliding window) and ``Memory.context`` over
every earlier pair (plain recall, no working memory).

Run: ``python -m engram.eval.agent_trace [--steps N] [--budget T] [--hash] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from engram.cognition.context import estimate_tokens
from engram.cognition.summaries import ExtractiveSummarizer, Summarizer
from engram.cognition.working import DEFAULT_MAX_ITEMS, DEFAULT_MAX_TOKENS, DEFAULT_SUMMARY_TOKENS, WorkingMemory
from engram.errors import InvalidInput
from engram.eval.trace_plan import NOISE, PLAN, REUSE, Fact, Scripted, Sub, world
from engram.interfaces.api import Memory
from engram.perception.embedders import Embedder

__all__ = ["DEFAULT_BUDGET", "DEFAULT_STEPS", "SEED", "Need", "Trace", "TraceStep", "agent_trace", "replay", "run"]

DEFAULT_STEPS = 320
DEFAULT_BUDGET = 1200  # tokens; see docs/usage.md for how it was chosen
SEED = 7
START = datetime(2024, 6, 3, 9, 0, tzinfo=timezone.utc)
STEP_SECONDS = 40  # an agent step: a tool call and the model's next turn
REUSE_SHARE = 0.55  # of the steps between scripted ones: the rest are routine noise
REUSE_SOURCES = (("current", 0.5), ("enclosing", 0.15), ("closed", 0.35))  # where a reused value comes from
RECENT_REUSES = 6  # a value reused in the last six reuse steps is not picked again while others remain
_FACT = re.compile(r"\{(\w+)\}")
_NUMBER = re.compile(r"\{#(\d+)-(\d+)\}")


@dataclass(frozen=True, slots=True)
class Need:
    """A value a step needs: which fact, its text, the step that first stated it, and whether
    that step's subgoal had closed by then (``cross``)."""

    fact: str
    value: str
    stated_at: int
    cross: bool


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of the trace. ``push`` are the subgoals opened just before it, ``close`` how many
    close just after it; ``goals`` the open subgoals while it runs, outermost first."""

    step: int
    goals: tuple[str, ...]
    push: tuple[str, ...]
    close: int
    intent: str
    action: str
    observation: str
    kind: str  # "scripted", "reuse" or "noise"
    needs: tuple[Need, ...]
    states: tuple[str, ...]

    @property
    def recorded_action(self) -> str:
        """The action as an agent records it: its thought, then the command (ReAct style)."""
        return f"{self.intent}: {self.action}"


@dataclass(frozen=True)
class Trace:
    """A generated trace: its steps, the values of its world (``facts``) and its shape."""

    steps: tuple[TraceStep, ...]
    facts: dict[str, Fact]
    seed: int
    subgoals: int  # not counting the root task
    depth: int  # the deepest nesting, the root task being 1


@dataclass
class _Frame:
    goal: str
    stated: list[str] = field(default_factory=list)


class _Builder:
    """Walks the plan in order, filling templates, tracking which values were stated where."""

    def __init__(self, facts: dict[str, Fact], rng: random.Random) -> None:
        self.facts = facts
        self.rng = rng
        self.steps: list[dict[str, Any]] = []
        self.frames: list[_Frame] = []
        self.closed: list[_Frame] = []
        self.origin: dict[str, tuple[int, _Frame]] = {}
        self.pending: list[str] = []
        self.recent: list[str] = []

    def walk(self, sub: Sub, padding: dict[int, list[int]]) -> None:
        frame = _Frame(sub.goal)
        self.frames.append(frame)
        self.pending.append(sub.goal)
        gaps = padding.get(id(sub), [])
        for index, element in enumerate(sub.body):
            for _ in range(gaps.count(index)):
                self.padding_step()
            if isinstance(element, Sub):
                self.walk(element, padding)
            else:
                self.scripted(element)
        self.frames.pop()
        self.closed.append(frame)
        self.steps[-1]["close"] += 1

    def emit(self, intent: str, action: str, observation: str, kind: str, needs: list[Need], states: list[str]) -> None:
        self.steps.append(
            {
                "step": len(self.steps) + 1,
                "goals": tuple(f.goal for f in self.frames),
                "push": tuple(self.pending),
                "close": 0,
                "intent": intent,
                "action": action,
                "observation": observation,
                "kind": kind,
                "needs": tuple(needs),
                "states": tuple(states),
            }
        )
        self.pending = []
        for name in states:
            self.origin[name] = (len(self.steps), self.frames[-1])
            self.frames[-1].stated.append(name)

    def fill(self, template: str) -> str:
        text = _NUMBER.sub(lambda m: str(self.rng.randint(int(m.group(1)), int(m.group(2)))), template)
        return _FACT.sub(lambda m: self.facts[m.group(1)].value, text)

    def need(self, name: str) -> Need:
        stated_at, frame = self.origin[name]
        return Need(name, self.facts[name].value, stated_at, frame in self.closed)

    def scripted(self, step: Scripted) -> None:
        used = dict.fromkeys([*_FACT.findall(step.action), *step.also])
        seen = dict.fromkeys([*used, *_FACT.findall(step.observation)])
        needs = [self.need(name) for name in used if name in self.origin]
        states = [name for name in seen if name not in self.origin]
        self.emit(step.intent, self.fill(step.action), self.fill(step.observation), "scripted", needs, states)

    def padding_step(self) -> None:
        name = self.reused() if self.rng.random() < REUSE_SHARE else None
        if name is None:
            intent, action, observation = self.rng.choice(NOISE)
            self.emit(intent, self.fill(action), self.fill(observation), "noise", [], [])
            return
        fact = self.facts[name]
        template = self.rng.choice(REUSE[fact.kind])
        intent, action, observation = (part.replace("{key}", fact.key).replace("{v}", fact.value) for part in template)
        self.emit(intent, self.fill(action), self.fill(observation), "reuse", [self.need(name)], [])

    def reused(self) -> str | None:
        """A stated value to come back to, from the current, an enclosing or a closed subgoal."""
        pools = {
            "current": self.frames[-1].stated,
            "enclosing": [n for f in self.frames[:-1] for n in f.stated],
            "closed": [n for f in self.closed for n in f.stated],
        }
        sources = [(s, w) for s, w in REUSE_SOURCES if any(self.facts[n].kind in REUSE for n in pools[s])]
        if not sources:
            return None
        source = self.rng.choices([s for s, _ in sources], weights=[w for _, w in sources])[0]
        names = [n for n in dict.fromkeys(pools[source]) if self.facts[n].kind in REUSE]
        fresh = [n for n in names if n not in self.recent] or names  # an agent rarely re-checks one thing in a row
        name = self.rng.choice(fresh)
        self.recent = [*self.recent, name][-RECENT_REUSES:]
        return name


def _scripted_count(sub: Sub) -> int:
    return sum(_scripted_count(e) if isinstance(e, Sub) else 1 for e in sub.body)


def _subs(sub: Sub) -> list[Sub]:
    return [sub, *(s for e in sub.body if isinstance(e, Sub) for s in _subs(e))]


def _depth(sub: Sub) -> int:
    return 1 + max((_depth(e) for e in sub.body if isinstance(e, Sub)), default=0)


def agent_trace(steps: int = DEFAULT_STEPS, *, seed: int = SEED) -> Trace:
    """A trace of exactly ``steps`` steps, deterministic in ``seed``.

    The plan's top-level subgoals are kept in order while their scripted steps fill at most
    half of ``steps``; the rest are reuse and noise steps spread over the kept subgoals in
    proportion to their scripted steps, at random places after each one's first step.

    Raises:
        InvalidInput: ``steps`` is smaller than the first subgoal's scripted steps.
    """
    rng = random.Random(seed)
    facts = world(rng)
    kept: list[Sub] = []
    for sub in (element for element in PLAN.body if isinstance(element, Sub)):
        if kept and _scripted_count(Sub("", (*kept, sub))) > steps // 2:
            break
        kept.append(sub)
    root = Sub(PLAN.goal, tuple(kept))
    core = _scripted_count(root)
    if steps < core:
        raise InvalidInput(f"steps must be at least {core} (the scripted steps of the first subgoal), got {steps}")
    padding = _padding(root, steps - core, rng)
    builder = _Builder(facts, rng)
    builder.walk(root, padding)
    trace_steps = tuple(TraceStep(**step) for step in builder.steps)
    return Trace(trace_steps, facts, seed, len(_subs(root)) - 1, _depth(root))


def _padding(root: Sub, count: int, rng: random.Random) -> dict[int, list[int]]:
    """For each subgoal (by ``id``), the body positions before which one padding step goes."""
    subs = _subs(root)[1:]
    own = [sum(1 for e in s.body if not isinstance(e, Sub)) for s in subs]
    shares = [count * n // sum(own) for n in own]
    for i in rng.sample(range(len(subs)), count - sum(shares)):
        shares[i] += 1
    return {id(s): sorted(rng.randint(1, len(s.body) - 1) for _ in range(n)) for s, n in zip(subs, shares, strict=True)}


def _goal_lines(goals: Sequence[str]) -> list[str]:
    return [f"{'current goal' if i == 0 else 'within'}: {g}" for i, g in enumerate(reversed(goals))]


def replay(
    trace: Trace, working: WorkingMemory, budget: int, *, baseline: Memory | None = None, details: bool = False
) -> dict[str, Any]:
    """Replay ``trace`` through ``working``, measuring each step's context (see the module docstring).

    ``baseline``, where given, also stores every pair in its namespace ``"baseline"`` and scores
    plain ``Memory.context`` at the same budget. ``details`` adds the measurements of every step
    (``per_step``).
    """
    history: list[str] = []
    rows = []
    for step in trace.steps:
        for goal in step.push:
            working.push_subgoal(goal)
        context = working.context(budget, query=step.intent)
        full = "\n".join([*_goal_lines(step.goals), *history])
        window = _window(_goal_lines(step.goals), history, budget)
        row = {
            "step": step.step,
            "context_tokens": context.tokens,
            "history_tokens": estimate_tokens(full),
            "missing": [n.value for n in step.needs if n.value not in context.text],
            "window_missing": [n.value for n in step.needs if n.value not in window],
        }
        if baseline is not None:
            cue = f"{step.goals[-1]} {step.intent}"
            plain = baseline.context(cue, namespace="baseline", budget_tokens=budget).text if history else ""
            row["recall_missing"] = [n.value for n in step.needs if n.value not in plain]
        rows.append(row)
        working.observe(step.recorded_action, step.observation)
        history.append(f"[step {step.step}] {step.recorded_action} → {step.observation}")
        if baseline is not None:
            baseline.remember(f"{step.recorded_action} → {step.observation}", namespace="baseline", session="baseline")
        for _ in range(step.close):
            working.close_subgoal()
    report = _report(trace, working, budget, rows)
    if details:
        report["per_step"] = rows
    return report


def _window(goal_lines: list[str], history: list[str], budget: int) -> str:
    """The goal stack and the latest pairs that fit ``budget`` (the sliding-window baseline)."""
    left = budget - sum(estimate_tokens(line + "\n") for line in goal_lines)
    kept: list[str] = []
    for line in reversed(history):
        cost = estimate_tokens(line + "\n")
        if cost > left:
            break
        kept.append(line)
        left -= cost
    return "\n".join([*goal_lines, *reversed(kept)])


def _report(trace: Trace, working: WorkingMemory, budget: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    needy = [(step, row) for step, row in zip(trace.steps, rows, strict=True) if step.needs]
    needs = [need for step, _ in needy for need in step.needs]
    distances = [step.step - need.stated_at for step, _ in needy for need in step.needs]
    ratios = [row["history_tokens"] / row["context_tokens"] for row in rows]

    def present(key: str) -> float | None:
        if not needy or key not in needy[0][1]:
            return None
        return round(sum(1 for _, row in needy if not row[key]) / len(needy), 4)

    methods: dict[str, int] = {}
    for summary in working.summaries:
        methods[summary.method] = methods.get(summary.method, 0) + 1
    return {
        "benchmark": "agent_trace",
        "seed": trace.seed,
        "steps": len(trace.steps),
        "subgoals": trace.subgoals,
        "depth": trace.depth,
        "budget_tokens": budget,
        "max_items": working.max_items,
        "max_tokens": working.max_tokens,
        "summary_tokens": working.summary_tokens,
        "ratio_mean": round(statistics.fmean(ratios), 2),
        "ratio_final": round(ratios[-1], 2),
        "ratio_total": round(sum(r["history_tokens"] for r in rows) / sum(r["context_tokens"] for r in rows), 2),
        "context_tokens_max": max(r["context_tokens"] for r in rows),
        "history_tokens_final": rows[-1]["history_tokens"],
        "needs_present": present("missing"),
        "steps_with_needs": len(needy),
        "misses": [
            {"step": step.step, "intent": step.intent, "missing": row["missing"]}
            for step, row in needy
            if row["missing"]
        ],
        "baselines": {
            "window_needs_present": present("window_missing"),
            "recall_needs_present": present("recall_missing"),
        },
        "needs": {
            "total": len(needs),
            "cross_subgoal": sum(n.cross for n in needs),
            "distance_median": statistics.median(distances) if distances else None,
            "distance_max": max(distances, default=None),
            "previous_step": sum(1 for d in distances if d == 1),
        },
        "displaced": working.displaced,
        "summaries": methods,
    }


def run(
    *,
    steps: int = DEFAULT_STEPS,
    budget: int = DEFAULT_BUDGET,
    seed: int = SEED,
    embedder: Embedder | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    summary_tokens: int = DEFAULT_SUMMARY_TOKENS,
    summarizer: Summarizer | None = None,
    baselines: bool = True,
    details: bool = False,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Generate the trace and replay it on a fresh SQLite ``Memory`` (MiniLM unless ``embedder``).

    The summaries are extractive unless ``summarizer`` is given, so the figures are offline and
    repeatable whatever LLM the environment names.
    """
    from engram.perception.embedders import default_embedder

    trace = agent_trace(steps, seed=seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        with Memory(Path(workdir or tmp) / "agent-trace", embedder=embedder or default_embedder()) as memory:
            working = WorkingMemory(
                memory,
                namespace="agent",
                run=f"trace-{seed}",
                max_items=max_items,
                max_tokens=max_tokens,
                summary_tokens=summary_tokens,
                summarizer=summarizer or ExtractiveSummarizer(),
                clock=_steady_clock(),
            )
            result = replay(trace, working, budget, baseline=memory if baselines else None, details=details)
            result["embedder"] = memory.embedder.name
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _steady_clock() -> Callable[[], datetime]:
    """A clock that moves ``STEP_SECONDS`` a call, from ``START``: the pairs' event times (which
    segmentation reads) then do not depend on how fast this machine replays the trace."""
    ticks = itertools.count()
    return lambda: START + timedelta(seconds=STEP_SECONDS * next(ticks))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engram.eval.agent_trace",
        description="Replay a synthetic long-horizon agent trace through WorkingMemory and measure its context.",
    )
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"trace length (default {DEFAULT_STEPS})")
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET, help=f"context tokens (default {DEFAULT_BUDGET})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seeds the trace (default {SEED})")
    parser.add_argument("--hash", action="store_true", help="use the hash embedder instead of MiniLM")
    parser.add_argument("--no-baselines", action="store_true", help="skip the window and plain-recall baselines")
    parser.add_argument("--json", type=Path, default=None, help="also write the result, with every step, to this file")
    args = parser.parse_args(argv)
    from engram.perception.embedders import HashEmbedder

    result = run(
        steps=args.steps,
        budget=args.budget,
        seed=args.seed,
        embedder=HashEmbedder(dim=256) if args.hash else None,
        baselines=not args.no_baselines,
        details=args.json is not None,
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    result.pop("per_step", None)
    sys.stdout.write(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
