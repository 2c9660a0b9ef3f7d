"""``engram forget``: erase events for good, after showing what would go and asking.

The command first runs ``Memory.forget(dry_run=True)`` and prints what it would erase, then
asks for confirmation on a terminal (``--yes`` skips the question; without a terminal it is
required). Before erasing it plans again and stops if the plan changed meanwhile (another
process stored or erased events), so what is erased is what was shown.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from engram.config import DEFAULT_TOP_K
from engram.errors import InvalidInput
from engram.interfaces.cli import EXIT_ERROR, open_memory

if TYPE_CHECKING:
    from engram import ForgetReport, Memory

__all__ = ["register"]

SHOWN = 5  # events whose text the preview prints


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``forget`` to the ``engram`` parser."""
    p = commands.add_parser(
        "forget",
        parents=[common],
        help="erase events for good",
        description="Erase one event, the events matching a query, or a whole namespace, with the reflections, "
        "facts and entities derived only from them; the namespace's episodes are segmented again. Nothing is "
        "left in the store's files. Shows what would be erased and asks first; this cannot be undone.",
    )
    p.add_argument("event_id", nargs="?", help="the id of the event to erase")
    p.add_argument("--query", "-q", metavar="TEXT", help="erase the events that best match TEXT instead")
    p.add_argument(
        "-k", type=int, default=DEFAULT_TOP_K, help=f"how many matches of --query to erase (default {DEFAULT_TOP_K})"
    )
    p.add_argument(
        "--namespace", "-n", help="the namespace of --query (default: 'default') or, with --all, the one to erase"
    )
    p.add_argument("--all", action="store_true", help="erase the whole --namespace: every event and all derived")
    p.add_argument("--yes", "-y", action="store_true", help="erase without asking (needed when stdin is no terminal)")
    p.add_argument("--dry-run", action="store_true", help="only show what would be erased")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=forget)


def _target(args: argparse.Namespace) -> dict[str, Any]:
    """``Memory.forget`` keyword arguments for the options given."""
    if args.all:
        if args.event_id is not None or args.query is not None or not args.namespace:
            raise InvalidInput("--all erases a whole namespace: give --namespace and no event id or --query")
        return {"namespace": args.namespace}
    if args.event_id is None and args.query is None:
        raise InvalidInput("say what to erase: an EVENT_ID, --query TEXT, or --namespace NS --all")
    scope = {"namespace": args.namespace} if args.namespace else {}
    if args.event_id is not None:
        return {"event_id": args.event_id, **scope}
    return {"query": args.query, "k": args.k, **scope}


def forget(args: argparse.Namespace) -> int:
    target = _target(args)
    with open_memory(args) as mem:
        preview = mem.forget(**target, dry_run=True)
        if args.json and (args.dry_run or not preview.events):
            print(json.dumps(preview.as_dict(), ensure_ascii=False))
        elif not args.json:
            _show(mem, preview)
        if args.dry_run or not preview.events:
            return 0
        if not args.yes and not _confirmed(preview):
            print("nothing erased")
            return 0
        if mem.forget(**target, dry_run=True) != preview:
            print("engram: error: the memory changed since it was shown; nothing erased", file=sys.stderr)
            return EXIT_ERROR
        report = mem.forget(**target)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(f"erased {_counts(report)}; episodes {report.episodes_before} -> {report.episodes_after}")
    if not report.scrubbed:
        print(
            "engram: note: another connection was reading, so the write-ahead log still holds old pages until "
            "its next checkpoint",
            file=sys.stderr,
        )
    return 0


def _show(mem: Memory, preview: ForgetReport) -> None:
    if not preview.events:
        print(f"nothing to erase in namespace {preview.namespace!r}")
        return
    print(f"would erase from namespace {preview.namespace!r}: {_counts(preview)}")
    for event_id in preview.event_ids[:SHOWN]:
        event = mem.get(event_id)
        who = f"{event.speaker}: " if event.speaker else ""
        text = event.text if len(event.text) <= 100 else event.text[:99] + "…"
        print(f"  [{event.occurred_at:%Y-%m-%d}] {who}{text}")
    if preview.events > SHOWN:
        print(f"  … and {preview.events - SHOWN} more")


def _counts(report: ForgetReport) -> str:
    return (
        f"{_n(report.events, 'event')} ({report.cascaded} of them reflections drawn only from the others), "
        f"{_n(report.facts_deleted, 'fact')} deleted, {_n(report.facts_updated, 'fact')} updated, "
        f"{_n(report.entities, 'entity', 'entities')} deleted"
    )


def _n(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _confirmed(preview: ForgetReport) -> bool:
    """Ask on the terminal; without one, refuse (``InvalidInput``: the caller must pass ``--yes``)."""
    if not sys.stdin.isatty():
        raise InvalidInput("stdin is not a terminal, so nothing was erased: pass --yes to erase without asking")
    events = _n(preview.events, "event")
    question = f"Erase {events} from namespace {preview.namespace!r}? This cannot be undone [y/N] "
    return input(question).strip().lower() in ("y", "yes")
