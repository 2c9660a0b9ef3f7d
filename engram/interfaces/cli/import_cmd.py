"""``engram import``: load events from a JSONL file or a benchmark file, in batches.

JSONL: one ``remember_many`` item per line (``id`` optional), e.g.
``{"text": "I moved to Lisbon.", "speaker": "maya", "session": "s1",
"occurred_at": "2024-05-03T10:00:00+00:00", "metadata": {"source": "chat"}}``.
The whole file is read and checked before anything is stored, so a bad line stores nothing.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

from engram.core import validate
from engram.errors import InvalidInput
from engram.interfaces.cli import open_memory

FORMATS = ("jsonl", "locomo", "longmemeval")
BATCH_SIZE = 256
_FIELDS = frozenset({"text", "speaker", "session", "occurred_at", "metadata", "id"})


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``import`` to the ``engram`` parser."""
    p = commands.add_parser(
        "import",
        parents=[common],
        help="load events from a file",
        description="Load events from a file. jsonl: one event per line (text, speaker, session, "
        "occurred_at as ISO-8601, metadata). locomo / longmemeval: a benchmark file; each "
        "conversation or question goes into a namespace named by its id unless --namespace is given.",
    )
    p.add_argument("file", help="the file to load (.json, .jsonl, or .json.xz for LongMemEval)")
    p.add_argument("--format", "-f", choices=FORMATS, default="jsonl", help="file format (default jsonl)")
    p.add_argument("--namespace", "-n", help="put every event in this namespace")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(run=run_import)


def run_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    groups = _jsonl_groups(path, args.namespace) if args.format == "jsonl" else _benchmark_groups(path, args)
    total = sum(len(items) for _, items in groups)
    with open_memory(args) as mem:
        stored = _store(mem, groups, total, show=not args.quiet)
    names = sorted({ns for ns, _ in groups if ns})
    where = f" into {len(names)} namespace(s)" if len(names) > 1 else (f" into {names[0]!r}" if names else "")
    print(f"imported {stored} events{where}")
    return 0


def _store(mem: Any, groups: list[tuple[str | None, list[dict[str, Any]]]], total: int, *, show: bool) -> int:
    from tqdm import tqdm

    stored = 0
    # disable=None: tqdm draws only on a terminal, so pipes and logs stay clean.
    with tqdm(total=total, unit="event", disable=None if show else True) as bar:
        for namespace, items in groups:
            scope = {"namespace": namespace} if namespace else {}
            for start in range(0, len(items), BATCH_SIZE):
                batch = items[start : start + BATCH_SIZE]
                stored += len(mem.remember_many(batch, **scope))
                bar.update(len(batch))
    return stored


def _jsonl_groups(path: Path, namespace: str | None) -> list[tuple[str | None, list[dict[str, Any]]]]:
    return [(namespace, read_jsonl(path))]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every event of a JSONL file as ``remember_many`` items, checked, times parsed.

    Raises:
        InvalidInput: a line is not a valid event (the message names the line), or there are none.
    """
    with path.open(encoding="utf-8") as lines:
        items = [item for item in (_jsonl_item(line, f"{path.name}:{n}") for n, line in enumerate(lines, 1)) if item]
    if not items:
        raise InvalidInput(f"{path}: no events")
    return items


def _jsonl_item(line: str, where: str) -> dict[str, Any] | None:
    """One checked ``remember_many`` item, or None for a blank line.

    The checks are ``Memory``'s own (``engram.core.validate``), run before anything is stored:
    the import goes in several transactions, and a bad last line must not leave the first ones.
    """
    if not line.strip():
        return None
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(item, dict):
        raise InvalidInput(f"{where}: expected a JSON object")
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise InvalidInput(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_FIELDS))}")
    try:
        validate.text(item.get("text"))
        for name in ("speaker", "session", "id"):
            validate.label(item.get(name), name)
        validate.metadata(item.get("metadata"))
        if item.get("occurred_at") is not None:
            item["occurred_at"] = validate.moment(item["occurred_at"], "occurred_at")
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc}") from None
    return item


def _benchmark_groups(path: Path, args: argparse.Namespace) -> list[tuple[str | None, list[dict[str, Any]]]]:
    runner = importlib.import_module(f"engram.eval.{args.format}")
    groups: list[tuple[str | None, list[dict[str, Any]]]] = []
    for unit in runner.load(path):
        groups.append((args.namespace or _unit_id(unit), list(runner.events_of(unit))))
    if not groups:
        raise InvalidInput(f"{path}: no conversations or questions")
    return groups


def _unit_id(unit: Any) -> str:
    """The id of a LoCoMo conversation (``sample_id``) or a LongMemEval question (``question_id``)."""
    for key in ("sample_id", "question_id", "id"):
        value = unit.get(key) if isinstance(unit, dict) else getattr(unit, key, None)
        if value:
            return str(value)
    raise InvalidInput("benchmark item has no id (sample_id / question_id)")
