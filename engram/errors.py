"""Engram's exceptions, one root for all of them.

    EngramError                  anything Engram raises on purpose
    ├── InvalidInput (ValueError) bad arguments: empty text, naive datetime, bad namespace …
    ├── NotFound (KeyError)       an id or namespace that does not exist
    ├── StoreError                the storage backend failed (driver errors are wrapped here)
    │   └── ModelMismatch         a store built with one embedding model opened with another
    ├── EmbedderError             the embedding model is missing or failed to run
    └── LLMError                  an optional LLM endpoint failed or answered malformed output

Driver errors (``sqlite3.Error`` …) are translated once, at the backend boundary, with
``raise … from exc`` so the original stays attached.
"""

from __future__ import annotations

__all__ = [
    "EmbedderError",
    "EngramError",
    "InvalidInput",
    "LLMError",
    "ModelMismatch",
    "NotFound",
    "StoreError",
]


class EngramError(Exception):
    """Root of every exception Engram raises on purpose."""


class InvalidInput(EngramError, ValueError):
    """An argument was rejected; nothing was stored or changed."""


class NotFound(EngramError, KeyError):
    """The requested id or namespace does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StoreError(EngramError):
    """The storage backend failed."""


class ModelMismatch(StoreError):
    """The store was built with a different embedding model than the one offered."""


class EmbedderError(EngramError):
    """The embedding model could not be loaded or run."""


class LLMError(EngramError):
    """An LLM endpoint failed or returned malformed output."""
