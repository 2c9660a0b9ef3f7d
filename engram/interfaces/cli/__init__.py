"""The ``engram`` command: a thin argparse front door over the Python API.

One module per command group registers its subcommands (``register(subparsers, common)``);
this module parses, dispatches and turns Engram's own errors into one line on stderr and
exit status 2. Global options (``--home``, ``--embedder``) are accepted before or after the
subcommand.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engram.errors import EngramError, InvalidInput

if TYPE_CHECKING:
    from engram import Memory
    from engram.perception.embedders import Embedder

__all__ = ["event_json", "main", "make_embedder", "open_memory"]

EMBEDDERS = ("default", "hash")
EXIT_ERROR = 2

_EPILOG = """\
environment:
  ENGRAM_HOME      data directory (default ~/.engram); --home overrides it
  ENGRAM_EMBEDDER  'default' (all-MiniLM-L6-v2, int8 ONNX) or 'hash' (a deterministic
                   word-hashing embedder: fast and model-free, for tests); --embedder overrides it
  ENGRAM_CACHE     where the built embedding model is cached (default ~/.cache/engram)
"""


def _common_options() -> argparse.ArgumentParser:
    """Options valid before or after any subcommand.

    ``SUPPRESS`` keeps a subparser from overwriting a value given before the subcommand.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--home",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="memory directory (default: $ENGRAM_HOME or ~/.engram)",
    )
    common.add_argument(
        "--embedder",
        choices=EMBEDDERS,
        default=argparse.SUPPRESS,
        help="embedding model (default: $ENGRAM_EMBEDDER or 'default'); 'hash' is fast and model-free, for tests",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The full ``engram`` parser with every command group registered."""
    from engram.interfaces.cli import (
        bench_cmd,
        demo_cmd,
        forget_cmd,
        import_cmd,
        memory_cmds,
        semantic_cmds,
        setup_cmd,
    )

    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="engram",
        description="Engram: long-term memory for LLM agents.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (memory_cmds, semantic_cmds, forget_cmd, import_cmd, demo_cmd, bench_cmd, setup_cmd):
        module.register(commands, common)
    return parser


def embedder_name(args: argparse.Namespace) -> str:
    """The embedder chosen by ``--embedder`` or ``$ENGRAM_EMBEDDER``, checked."""
    name = getattr(args, "embedder", None) or os.environ.get("ENGRAM_EMBEDDER") or "default"
    if name not in EMBEDDERS:
        raise InvalidInput(f"unknown embedder {name!r} (ENGRAM_EMBEDDER): choose one of {', '.join(EMBEDDERS)}")
    return name


def make_embedder(args: argparse.Namespace) -> Embedder:
    """Build the embedder the options ask for."""
    from engram.perception.embedders import HashEmbedder, default_embedder

    return HashEmbedder() if embedder_name(args) == "hash" else default_embedder()


def open_memory(args: argparse.Namespace, home: str | None = None) -> Memory:
    """Open the memory at ``home``, ``--home`` or ``$ENGRAM_HOME`` (in that order)."""
    from engram import Memory

    return Memory(home or getattr(args, "home", None), embedder=make_embedder(args))


def event_json(event: Any) -> dict[str, Any]:
    """An ``Event`` as a JSON-ready dict."""
    return {
        "id": event.id,
        "namespace": event.namespace,
        "text": event.text,
        "speaker": event.speaker,
        "session": event.session,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "metadata": dict(event.metadata),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``engram`` command; return its exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already reported
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    try:
        return int(args.run(args) or 0)
    except EngramError as exc:
        print(f"engram: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("engram: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stdout = open(os.devnull, "w")  # the interpreter's final flush would raise again
        return 0
