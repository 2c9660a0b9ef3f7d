"""``engram sleep``, ``facts``, ``profile`` and ``reflect``: semantic memory, one API call each."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from engram.errors import InvalidInput
from engram.interfaces.cli import open_memory

__all__ = ["register"]


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the semantic-memory commands to the ``engram`` parser."""
    p = commands.add_parser(
        "sleep",
        parents=[common],
        help="consolidate episodes into facts",
        description="Replay the episodes not yet consolidated: extract facts, resolve entities, merge duplicates "
        "and supersede contradicted facts. Idempotent and resumable; safe while other processes remember. "
        "Uses an LLM when ENGRAM_LLM_URL and ENGRAM_LLM_MODEL are set, the offline rules otherwise.",
    )
    p.add_argument("--namespace", "-n", help="only this namespace (default: every namespace)")
    p.add_argument("--every", type=float, metavar="SECONDS", help="keep consolidating, pausing SECONDS between runs")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=sleep)

    p = commands.add_parser(
        "facts",
        parents=[common],
        help="list facts of semantic memory",
        description="Print the facts true now (or at --at), optionally about one entity.",
    )
    p.add_argument("--namespace", "-n", default="default", help="whose memory (default: 'default')")
    p.add_argument("--about", help="an entity's name or alias")
    p.add_argument("--at", metavar="TIME", help="what was true at this ISO-8601 time")
    p.add_argument("--all", action="store_true", help="include superseded facts")
    p.add_argument("--json", action="store_true", help="print the facts as a JSON list")
    p.set_defaults(run=facts)

    p = commands.add_parser(
        "profile",
        parents=[common],
        help="print what is true now about someone",
        description="The current facts about a subject, one predicate a line (default: the main subject).",
    )
    p.add_argument("--namespace", "-n", default="default", help="whose memory (default: 'default')")
    p.add_argument("--subject", help="an entity's name or alias")
    p.set_defaults(run=profile)

    p = commands.add_parser(
        "reflect",
        parents=[common],
        help="store a conclusion linked to its sources",
        description="Store a conclusion drawn from earlier events, so it is recalled instead of derived again.",
    )
    p.add_argument("text", help="the conclusion")
    p.add_argument("--source", action="append", required=True, help="an event id it was drawn from; repeat")
    p.add_argument("--namespace", "-n", default="default", help="whose memory (default: 'default')")
    p.set_defaults(run=reflect)


def sleep(args: argparse.Namespace) -> int:
    if args.every is not None and args.every <= 0:
        raise InvalidInput(f"--every must be a positive number of seconds, got {args.every}")
    with open_memory(args) as mem:
        while True:
            report = mem.consolidate(args.namespace)
            _print_report(report.as_dict(), as_json=args.json)
            if args.every is None:
                return 0
            time.sleep(args.every)


def _print_report(report: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    usage = report["usage"]
    print(
        f"consolidated {report['events']} events in {report['chunks']} chunks ({report['events_per_second']}/s): "
        f"{report['claims']} claims -> {report['inserted']} new facts, {report['merged']} merged, "
        f"{report['superseded']} superseded, {report['entities']} new entities; "
        f"LLM calls {usage['calls']}, tokens {usage['total_tokens']}, fallbacks {usage['fallbacks']}"
    )


def facts(args: argparse.Namespace) -> int:
    with open_memory(args) as mem:
        found = mem.facts(args.namespace, about=args.about, at=args.at, include_superseded=args.all)
    if args.json:
        print(json.dumps([_fact_json(f) for f in found], indent=2, ensure_ascii=False))
        return 0
    if not found:
        print("no facts (run `engram sleep` to consolidate)")
    for f in found:
        span = f"{f.valid_from:%Y-%m-%d} – " + (f"{f.valid_to:%Y-%m-%d}" if f.valid_to else "now")
        print(f"[{span}] {f.text()}  (confidence {f.confidence:.2f}, {len(f.sources)} source(s))")
    return 0


def _fact_json(fact: Any) -> dict[str, Any]:
    out = {name: getattr(fact, name) for name in fact.__slots__}
    for name in ("valid_from", "valid_to", "recorded_at"):
        out[name] = out[name].isoformat() if out[name] else None
    out["sources"] = list(fact.sources)
    return out


def profile(args: argparse.Namespace) -> int:
    with open_memory(args) as mem:
        print(mem.profile(args.namespace, subject=args.subject).text)
    return 0


def reflect(args: argparse.Namespace) -> int:
    with open_memory(args) as mem:
        print(mem.reflect(args.text, sources=args.source, namespace=args.namespace).id)
    return 0
