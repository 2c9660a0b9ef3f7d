"""Defaults and the one environment variable Engram reads (``ENGRAM_HOME``), read lazily."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_TOP_K = 10
DEFAULT_BUDGET_TOKENS = 2000
MAX_TEXT_CHARS = 100_000
MAX_NAMESPACE_CHARS = 128
ANN_THRESHOLD = 20_000  # events in a namespace above which dense search uses the ANN index
RRF_K = 10  # measured on LoCoMo dev: 0.659 recall@10 at 10, 0.596 at the customary 60 (README)


def engram_home() -> Path:
    """The data directory: ``$ENGRAM_HOME`` or ``~/.engram``."""
    return Path(os.environ.get("ENGRAM_HOME") or Path.home() / ".engram")


def cache_dir() -> Path:
    """Where derived artefacts (the built ONNX model) live: ``$ENGRAM_CACHE`` or ``~/.cache/engram``."""
    if os.environ.get("ENGRAM_CACHE"):
        return Path(os.environ["ENGRAM_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "engram"
