"""``engram demo``: remember a bundled sample conversation, consolidate it, answer a few questions, show its
episodes and what semantic memory knows."""

from __future__ import annotations

import argparse
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from engram.interfaces.cli import open_memory
from engram.interfaces.cli.import_cmd import read_jsonl
from engram.interfaces.cli.memory_cmds import format_hit

NAMESPACE = "demo"
QUESTIONS = (
    "Where did Maya move in May?",
    "What is the name of Maya's dog?",
    "Which cities did Jonas visit in Japan?",
    "What job did Jonas get at the solar company?",
    "When is Jonas running his marathon?",
    "What did Jonas tell Maya in October 2024?",
)
CONTEXT_QUESTION = "What happened to Jonas's cat Miso?"
CONTEXT_BUDGET = 200


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``demo`` to the ``engram`` parser."""
    p = commands.add_parser(
        "demo",
        parents=[common],
        help="a two-minute tour on a bundled sample conversation",
        description="Remember a bundled sample conversation (two friends, four sessions over seven "
        "months) in a temporary directory, or in --home, then answer a few questions, "
        "showing each hit's score and a context block. Runs offline.",
    )
    p.add_argument("--top", type=int, default=3, help="hits shown per question (default 3)")
    p.set_defaults(run=demo)


def sample_events() -> list[dict[str, Any]]:
    """The bundled sample conversation as ``remember_many`` items."""
    with resources.as_file(resources.files("engram") / "data" / "sample_conversation.jsonl") as path:
        return read_jsonl(Path(path))


def demo(args: argparse.Namespace) -> int:
    if getattr(args, "home", None):
        return _tour(args, args.home)
    with tempfile.TemporaryDirectory(prefix="engram-demo-") as home:
        return _tour(args, home)


def _tour(args: argparse.Namespace, home: str) -> int:
    with open_memory(args, home) as mem:
        _fill(mem, home)
        report = mem.consolidate(NAMESPACE)
        print(
            f"consolidate(): {report.events} events -> {report.inserted} facts, {report.merged} merged, "
            f"{report.superseded} superseded, {report.entities} entities ({report.seconds:.2f} s)"
        )
        for question in QUESTIONS:
            print(f"\nQ: {question}")
            for rank, hit in enumerate(mem.recall(question, namespace=NAMESPACE, k=args.top), 1):
                print(format_hit(rank, hit))
        print("\ntimeline(): the conversation as episodes, in time order")
        for episode in mem.timeline(NAMESPACE):
            size = f"{episode.event_count:>2} events ({episode.boundary})"
            print(f"  {episode.started_at:%Y-%m-%d}  {size}  {episode.gist[:90]}")
        block = mem.context(CONTEXT_QUESTION, namespace=NAMESPACE, budget_tokens=CONTEXT_BUDGET)
        print(
            f"\ncontext({CONTEXT_QUESTION!r}, budget_tokens={CONTEXT_BUDGET}) -> {block.tokens} tokens, "
            f"{len(block.events)} events:\n"
        )
        print(block.text)
        _semantic(mem)
    return 0


def _semantic(mem: Any) -> None:
    """What semantic memory knows now, and a fact it knew before."""
    for name in ("Maya", "Jonas"):
        print(f"\nprofile({name!r}):\n" + mem.profile(NAMESPACE, subject=name).text)
    ended = [f for f in mem.facts(NAMESPACE, include_superseded=True) if not f.current]
    for fact in ended[:3]:
        print(f"\nsuperseded: {fact.text()} (valid {fact.valid_from:%Y-%m-%d} to {fact.valid_to:%Y-%m-%d})")


def _fill(mem: Any, home: str) -> None:
    """Remember the sample conversation unless this memory already holds it."""
    if mem.stats()["namespaces"].get(NAMESPACE):
        print(f"Using the demo conversation already in {home}.")
        return
    events = sample_events()
    started = time.perf_counter()
    mem.remember_many(events, namespace=NAMESPACE)
    seconds = time.perf_counter() - started
    print(
        f"Remembered {len(events)} turns between Maya and Jonas (March to October 2024) "
        f"in {seconds:.2f} s, stored in {home}."
    )
