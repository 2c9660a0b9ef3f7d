"""``engram remember``, ``recall``, ``context``, ``timeline``, ``stats``, ``strength``: the API, one call each."""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import datetime, timezone
from typing import Any

from engram.config import DEFAULT_BUDGET_TOKENS, DEFAULT_TOP_K
from engram.errors import InvalidInput
from engram.interfaces.cli import event_json, open_memory


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the memory commands to the ``engram`` parser."""
    p = commands.add_parser(
        "remember", parents=[common], help="store one event", description="Store one event and print its id."
    )
    p.add_argument("text", help="what happened (a message, an observation …)")
    _namespace_option(p)
    p.add_argument("--speaker", help="who said it")
    p.add_argument("--session", help="conversation or session id")
    p.add_argument("--at", metavar="TIME", help="when it happened, ISO-8601 with a UTC offset (default: now)")
    p.add_argument("--meta", metavar="KEY=VALUE", action="append", default=[], help="metadata entry; repeat for more")
    p.add_argument("--importance", type=float, metavar="0..1", help="how much it matters: raises how slowly it fades")
    p.set_defaults(run=remember)

    p = commands.add_parser(
        "recall",
        parents=[common],
        help="find the events that match a cue",
        description="Print the best-matching events with the reasons for their scores.",
    )
    p.add_argument("query", help="the cue: a question or a few words")
    _namespace_option(p)
    p.add_argument("-k", type=int, default=DEFAULT_TOP_K, help=f"how many hits (default {DEFAULT_TOP_K})")
    p.add_argument("--at", metavar="TIME", help="recall as of this ISO-8601 time (default: now)")
    p.add_argument("--include-faded", action="store_true", help="also return memories that have faded")
    p.add_argument(
        "--pure", action="store_true", help="pure similarity: no strength in the ranking, no fading, no strengthening"
    )
    p.add_argument("--no-rehearse", action="store_true", help="do not strengthen what is returned")
    p.add_argument("--json", action="store_true", help="print the hits as a JSON list")
    p.set_defaults(run=recall)

    p = commands.add_parser(
        "context",
        parents=[common],
        help="print a prompt-ready memory block",
        description="Pack the memories relevant to a cue into a token budget.",
    )
    p.add_argument("query", help="the cue: a question or a few words")
    _namespace_option(p)
    p.add_argument(
        "--budget-tokens",
        type=int,
        default=DEFAULT_BUDGET_TOKENS,
        help=f"token budget (default {DEFAULT_BUDGET_TOKENS})",
    )
    p.set_defaults(run=context)

    p = commands.add_parser(
        "timeline",
        parents=[common],
        help="list the episodes in time order",
        description="Print the namespace's episodes (events segmented by surprise, session and pauses) "
        "in time order, each with its span, size, participants and gist.",
    )
    _namespace_option(p)
    p.add_argument("--since", metavar="TIME", help="only episodes that end at or after this ISO-8601 time")
    p.add_argument("--until", metavar="TIME", help="only episodes that start before this ISO-8601 time")
    p.add_argument("--json", action="store_true", help="print the episodes as a JSON list")
    p.set_defaults(run=timeline)

    p = commands.add_parser(
        "stats",
        parents=[common],
        help="counts, namespaces and size on disk",
        description="Print what the memory holds as JSON.",
    )
    p.add_argument("--namespace", "-n", help="only this namespace")
    p.set_defaults(run=stats)

    p = commands.add_parser(
        "strength",
        parents=[common],
        help="how well a memory is held",
        description="Print the strength of an event, episode or fact as JSON: stability (days), last access, "
        "recalls, salience, and retention, activation and whether it has faded at --at. Reading changes nothing.",
    )
    p.add_argument("id", help="an event, episode or fact id")
    _namespace_option(p)
    p.add_argument("--at", metavar="TIME", help="as of this ISO-8601 time (default: now)")
    p.set_defaults(run=strength)


def _namespace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--namespace", "-n", help="whose memory: a user, an agent … (default: 'default')")


def _scope(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for the options given; absent ones are left to ``Memory``'s defaults."""
    return {"namespace": args.namespace} if args.namespace else {}


def _metadata(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--meta {pair!r}: expected KEY=VALUE")
        out[key] = value
    return out


def remember(args: argparse.Namespace) -> int:
    options = _scope(args)
    for name in ("speaker", "session"):
        if getattr(args, name):
            options[name] = getattr(args, name)
    if args.at:
        options["occurred_at"] = args.at  # Memory parses and checks ISO-8601
    if args.meta:
        options["metadata"] = _metadata(args.meta)
    if args.importance is not None:
        options["importance"] = args.importance
    with open_memory(args) as mem:
        event = mem.remember(args.text, **options)
    print(event.id)
    return 0


def recall(args: argparse.Namespace) -> int:
    options = _scope(args)
    if args.at:
        options["at"] = args.at
    options.update(
        include_faded=args.include_faded, strength=not args.pure, rehearse=not (args.pure or args.no_rehearse)
    )
    with open_memory(args) as mem:
        hits = mem.recall(args.query, k=args.k, **options)
    if args.json:
        rows = [
            {**event_json(h.event), "score": h.score, "components": dict(h.components), "why": h.why()} for h in hits
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not hits:
        print("no memories match")
    for rank, hit in enumerate(hits, 1):
        print(format_hit(rank, hit))
    return 0


def format_hit(rank: int, hit: Any) -> str:
    """Two lines: rank, date, speaker and text; then the score's explanation."""
    event = hit.event
    who = f"{event.speaker}: " if event.speaker else ""
    return f"{rank:>2}. [{event.occurred_at:%Y-%m-%d}] {who}{event.text}\n    {hit.why()}"


def context(args: argparse.Namespace) -> int:
    with open_memory(args) as mem:
        block = mem.context(args.query, budget_tokens=args.budget_tokens, **_scope(args))
    print(block.text)
    return 0


def timeline(args: argparse.Namespace) -> int:
    options = {name: getattr(args, name) for name in ("since", "until") if getattr(args, name)}
    with open_memory(args) as mem:
        episodes = mem.timeline(args.namespace or "default", **options)
    if args.json:
        rows = [
            {
                **{f.name: getattr(e, f.name) for f in dataclasses.fields(e)},
                "started_at": e.started_at.isoformat(),
                "ended_at": e.ended_at.isoformat(),
                "recorded_at": e.recorded_at.isoformat(),
            }
            for e in episodes
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not episodes:
        print("no episodes")
    for e in episodes:
        state = "" if e.closed else ", open"
        who = ", ".join(e.participants) or "no speaker"
        span = f"{e.started_at:%Y-%m-%d %H:%M} – {e.ended_at:%Y-%m-%d %H:%M}"
        print(f"{span}  {e.event_count} events ({who}; {e.boundary}{state})")
        print(f"    {e.gist}")
    return 0


def stats(args: argparse.Namespace) -> int:
    with open_memory(args) as mem:
        numbers = mem.stats()
    if args.namespace:
        counts = numbers.get("namespaces", {})
        numbers = {**numbers, "namespaces": {args.namespace: counts.get(args.namespace, 0)}}
    print(json.dumps(numbers, indent=2, default=str, ensure_ascii=False))
    return 0


def strength(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {"namespace": args.namespace or "default"}
    if args.at:
        options["at"] = args.at
    with open_memory(args) as mem:
        held = mem.strength(args.id, **options)
    row = dataclasses.asdict(held)
    row["last_access"] = datetime.fromtimestamp(held.last_access, timezone.utc).isoformat()
    print(json.dumps(row, indent=2))
    return 0
