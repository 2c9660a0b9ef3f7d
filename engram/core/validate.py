"""Input checks for the public API. Each raises ``InvalidInput`` naming what was wrong."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engram.config import MAX_NAMESPACE_CHARS, MAX_TEXT_CHARS
from engram.errors import InvalidInput

_NAMESPACE = re.compile(r"[A-Za-z0-9_.:@/-]+")
MAX_LABEL_CHARS = 256


def text(value: Any, what: str = "text") -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInput(f"{what} is empty")
    if len(value) > MAX_TEXT_CHARS:
        raise InvalidInput(f"{what} is {len(value):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    if "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL character")
    return value


def namespace(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput("namespace must be a non-empty string")
    if len(value) > MAX_NAMESPACE_CHARS or not _NAMESPACE.fullmatch(value):
        raise InvalidInput(
            f"namespace {value!r} is not allowed: use up to {MAX_NAMESPACE_CHARS} letters, digits or _.:@/-"
        )
    return value


def label(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_LABEL_CHARS or "\x00" in value:
        raise InvalidInput(f"{what} must be a non-empty string of at most {MAX_LABEL_CHARS} characters, or None")
    return value


def moment(value: Any, what: str) -> datetime:
    """A timezone-aware datetime; ISO-8601 strings with an offset are accepted."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidInput(f"{what} {value!r} is not an ISO-8601 date-time") from exc
    if not isinstance(value, datetime):
        raise InvalidInput(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{what} is a naive datetime; give it a timezone (e.g. tzinfo=timezone.utc)")
    return value


def optional_moment(value: Any, what: str) -> datetime | None:
    """``None`` or a timezone-aware datetime (see ``moment``)."""
    return None if value is None else moment(value, what)


def metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidInput("metadata must be a mapping with string keys")
    try:
        return json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"metadata is not JSON-serialisable: {exc}") from exc


def top_k(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise InvalidInput(f"k must be an integer between 1 and 10000, got {value!r}")
    return value


def unit(value: Any, what: str) -> float | None:
    """``None`` or a number in [0, 1]."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise InvalidInput(f"{what} must be a number between 0 and 1, or None; got {value!r}")
    return float(value)


def flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{what} must be True or False, got {value!r}")
    return value
