"""A client for OpenAI-compatible chat endpoints that answers with validated JSON (stdlib only).

``complete_json`` asks for schema-constrained output (``response_format``), falls back to a
system-message instruction where the server rejects that, validates the answer, and retries a
bounded number of times: malformed answers at once, HTTP 408/429/5xx and network failures after
exponential backoff, or after the wait a ``Retry-After`` header asks for (a wait over
``MAX_RETRY_AFTER`` is not retried). Anything else, or a spent retry budget, raises ``LLMError``.
The API key never appears in messages or logs.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import astuple, dataclass, field
from typing import Any

from engram.errors import InvalidInput, LLMError

__all__ = ["LLMClient", "LLMConfig", "Usage", "UsageTotals", "schema_violation"]

logger = logging.getLogger("engram.llm")
Messages = list[dict[str, Any]]  # OpenAI chat messages: {"role": ..., "content": ...}
Schema = dict[str, Any]  # a JSON Schema

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_BACKOFF = 0.5
MAX_RETRY_AFTER = 60.0  # seconds; a server asking for a longer wait (a spent quota) fails the call at once
INSTRUCTION = "Answer with JSON only, matching this schema: "
_RETRYABLE_STATUS = frozenset({408, 429})
_DETAIL_CHARS = 300
_FENCE = re.compile(r"```(?:json)?[ \t]*\n?(.*?)```", re.DOTALL | re.IGNORECASE)
_JSON_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
_PY_TYPES: dict[str, type] = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


@dataclass(frozen=True, kw_only=True)
class LLMConfig:
    """Where the endpoint is and how patiently to talk to it."""

    url: str  # base URL, e.g. http://127.0.0.1:8080/v1; /chat/completions is appended
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff: float = DEFAULT_BACKOFF  # seconds before the first retry; doubles after each
    temperature: float = 0.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")) or not self.model:
            raise InvalidInput(f"LLM url must start with http:// or https:// and model must be set: {self!r}")
        if self.timeout <= 0 or self.backoff < 0 or self.max_retries < 0:
            raise InvalidInput(f"LLM timeout must be > 0, backoff and max_retries >= 0: {self!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LLMConfig | None:
        """Read ``ENGRAM_LLM_URL``, ``ENGRAM_LLM_MODEL``, ``ENGRAM_LLM_API_KEY``; None if the first two are unset.

        Raises:
            InvalidInput: one of URL and model is set without the other.
        """
        env = os.environ if environ is None else environ
        if not env.get("ENGRAM_LLM_URL") and not env.get("ENGRAM_LLM_MODEL"):
            return None
        for missing, present in (("ENGRAM_LLM_URL", "ENGRAM_LLM_MODEL"), ("ENGRAM_LLM_MODEL", "ENGRAM_LLM_URL")):
            if not env.get(missing):
                raise InvalidInput(f"{missing} is not set but {present} is; set both to use an LLM")
        key = env.get("ENGRAM_LLM_API_KEY") or None
        return cls(url=env["ENGRAM_LLM_URL"], model=env["ENGRAM_LLM_MODEL"], api_key=key)


@dataclass(frozen=True)
class Usage:
    """Tokens reported by the server and the client's counters.

    ``calls`` counts ``complete_json`` calls, ``retries`` the attempts repeated after a failure,
    ``failures`` the calls that ended in ``LLMError``. Tokens include those of failed attempts.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    calls: int = 0
    retries: int = 0
    failures: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def __sub__(self, other: Usage) -> Usage:
        return Usage(*(a - b for a, b in zip(astuple(self), astuple(other), strict=True)))


class UsageTotals:
    """A thread-safe running sum of ``Usage``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = Usage()

    def add(self, usage: Usage) -> None:
        with self._lock:
            self._total = self._total + usage

    def snapshot(self) -> Usage:
        with self._lock:
            return self._total


class _Retryable(Exception):
    """An attempt failed in a way that another attempt may fix (after a pause if ``backoff``).

    ``wait`` is the pause the server asked for (``Retry-After``), used instead of the backoff.
    """

    def __init__(self, message: str, *, backoff: bool, wait: float | None = None) -> None:
        super().__init__(message)
        self.backoff = backoff
        self.wait = wait


class _SchemaUnsupported(Exception):
    """The server rejected ``response_format: json_schema``."""


class LLMClient:
    """Chat completions against one OpenAI-compatible endpoint, answered as validated JSON."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.endpoint = config.url.rstrip("/") + "/chat/completions"
        self._opener = urllib.request.build_opener()  # reads proxy settings now, not at import
        self._totals = UsageTotals()
        self._json_schema_supported = True  # until the server says otherwise

    @property
    def usage(self) -> Usage:
        """Totals over every call made with this client so far."""
        return self._totals.snapshot()

    def complete_json(
        self, messages: Messages, *, schema: Schema, name: str = "result", accept: Schema | None = None
    ) -> tuple[Any, Usage]:
        """Ask for an answer matching ``schema``; return it with this call's usage.

        ``accept``, where given, is the (looser) schema the answer is checked against instead of
        ``schema``, for callers that check some constraints themselves, item by item.

        Raises:
            LLMError: authentication/not-found/bad-request errors at once; malformed answers,
                timeouts and server errors once ``config.max_retries`` retries are spent.
        """
        spent, retries = UsageTotals(), 0
        try:
            while True:
                try:
                    value = self._attempt(messages, schema, name, spent, schema if accept is None else accept)
                    return value, self._finish(spent, retries, failed=False)
                except _Retryable as exc:
                    if retries >= self.config.max_retries:
                        raise LLMError(f"{exc} (gave up after {retries + 1} attempts)") from exc
                    retries += 1
                    self._pause(exc, retries)
        except LLMError:
            self._finish(spent, retries, failed=True)
            raise

    def _finish(self, spent: UsageTotals, retries: int, *, failed: bool) -> Usage:
        usage = spent.snapshot() + Usage(calls=1, retries=retries, failures=int(failed))
        self._totals.add(usage)
        return usage

    def _pause(self, exc: _Retryable, retry: int) -> None:
        logger.warning("LLM attempt failed, retry %d of %d: %s", retry, self.config.max_retries, exc)
        if exc.wait is not None:
            time.sleep(exc.wait)
        elif exc.backoff:
            time.sleep(self.config.backoff * 2 ** (retry - 1))

    def _attempt(self, messages: Messages, schema: Schema, name: str, spent: UsageTotals, accept: Schema) -> Any:
        body = self._request(messages, schema, name)
        spent.add(_tokens_of(body))
        value = _decode_answer(_content_of(body))
        problem = schema_violation(value, accept)
        if problem:
            raise _Retryable(f"answer does not match the schema: {problem}", backoff=False)
        return value

    def _request(self, messages: Messages, schema: Schema, name: str) -> dict[str, Any]:
        """Post with ``response_format``, or, once the server has rejected that, with an instruction."""
        payload = {"model": self.config.model, "messages": messages, "temperature": self.config.temperature}
        if self._json_schema_supported:
            json_schema = {"name": name, "schema": schema, "strict": True}
            try:
                return self._post({**payload, "response_format": {"type": "json_schema", "json_schema": json_schema}})
            except _SchemaUnsupported:
                self._json_schema_supported = False
                logger.info("%s rejects response_format; asking for JSON in a system message", self.endpoint)
        return self._post({**payload, "messages": _with_instruction(messages, INSTRUCTION + json.dumps(schema))})

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        data = json.dumps(payload).encode()
        request = urllib.request.Request(self.endpoint, data=data, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.config.timeout) as response:
                raw: bytes = response.read()
        except urllib.error.HTTPError as exc:
            wait = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            raise self._http_failure(exc.code, _read_detail(exc), "response_format" in payload, wait) from exc
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise _Retryable(f"cannot reach {self.endpoint}: {self._redact(str(reason))}", backoff=True) from exc
        return self._decode_body(raw)

    def _http_failure(self, status: int, detail: str, constrained: bool, wait: float | None = None) -> Exception:
        lowered = detail.lower()
        if status == 400 and constrained and ("response_format" in lowered or "json_schema" in lowered):
            return _SchemaUnsupported(detail)
        message = f"HTTP {status} from {self.endpoint}: {self._redact(detail[:_DETAIL_CHARS])}"
        if status in _RETRYABLE_STATUS or status >= 500:
            if wait is not None and wait > MAX_RETRY_AFTER:
                return LLMError(f"{message} (asks to retry after {wait:g} s, more than {MAX_RETRY_AFTER:g})")
            return _Retryable(message, backoff=True, wait=wait)
        if status in (401, 403):
            message += " (check ENGRAM_LLM_API_KEY)"
        return LLMError(message)

    def _decode_body(self, raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            body = None
        if not isinstance(body, dict):
            raise _Retryable(f"response from {self.endpoint} is not a JSON object: {_clip(raw)}", backoff=False)
        return body

    def _redact(self, text: str) -> str:
        key = self.config.api_key
        return text.replace(key, "***") if key else text


def _retry_after(value: str | None) -> float | None:
    """The seconds a ``Retry-After`` header asks for; None where it is absent or not a number."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: back off as usual
    return max(seconds, 0.0) if seconds == seconds else None  # NaN is no wait


def _read_detail(exc: urllib.error.HTTPError) -> str:
    """The start of an error response's body; closes the response."""
    try:
        return exc.read(4096).decode("utf-8", "replace").strip() if exc.fp else ""
    except OSError:
        return ""
    finally:
        exc.close()


def _with_instruction(messages: Messages, instruction: str) -> Messages:
    """Messages with ``instruction`` added to the leading system message, or as a new one."""
    if messages and messages[0].get("role") == "system" and isinstance(messages[0].get("content"), str):
        first = {**messages[0], "content": messages[0]["content"] + "\n\n" + instruction}
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


def _tokens_of(body: dict[str, Any]) -> Usage:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return Usage()
    prompt, completion, total = (usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
    prompt, completion = _count(prompt), _count(completion)
    return Usage(prompt, completion, _count(total) or prompt + completion)


def _count(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0  # servers send null or omit fields


def _content_of(body: dict[str, Any]) -> str:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        content = None
    if not isinstance(content, str):
        raise _Retryable(f"response has no choices[0].message.content: {_clip(json.dumps(body))}", backoff=False)
    return content


def _decode_answer(content: str) -> Any:
    """Parse the answer as JSON, or the first ```json fenced block in it."""
    try:
        return json.loads(content)
    except json.JSONDecodeError as exc:
        error = exc
    fenced = _FENCE.search(content)
    if fenced:
        try:
            return json.loads(fenced.group(1))
        except json.JSONDecodeError as exc:
            error = exc
    raise _Retryable(f"answer is not JSON: {error.msg} at char {error.pos}: {_clip(content)}", backoff=False)


def _clip(text: str | bytes, limit: int = 120) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return repr(text if len(text) <= limit else text[:limit] + "…")


def schema_violation(value: Any, schema: Mapping[str, Any], path: str = "$") -> str | None:
    """The first place where ``value`` breaks ``schema``, as ``"$.facts[2].subject: expected string"``.

    Supports the subset that extraction prompts use: ``type`` (a name or a list of names),
    ``properties``, ``required``, ``items``, ``enum`` and ``additionalProperties`` (false or a
    schema); other keywords are ignored. Returns None when ``value`` conforms.
    """
    declared = schema.get("type", list(_JSON_TYPES))
    names = [declared] if isinstance(declared, str) else list(declared)
    if not any(_is_type(value, name) for name in names):
        return f"{path}: expected {' or '.join(names)}, got {_type_name(value)}"
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        return f"{path}: expected one of {json.dumps(schema['enum'])}, got {_clip(json.dumps(value), 60)}"
    missing = [key for key in schema.get("required", ()) if key not in value] if isinstance(value, dict) else []
    if missing:
        return f"{path}: missing required property {missing[0]!r}"
    for child, sub, sub_path in _children(value, schema, path):
        problem = f"{sub_path}: property not allowed" if sub is False else schema_violation(child, sub, sub_path)
        if problem:
            return problem
    return None


def _children(value: Any, schema: Mapping[str, Any], path: str) -> Iterator[tuple[Any, Any, str]]:
    """(item, its schema or False where additionalProperties forbids it, its path) for each member."""
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        yield from ((item, schema["items"], f"{path}[{index}]") for index, item in enumerate(value))
    elif isinstance(value, dict):
        properties, extra = schema.get("properties", {}), schema.get("additionalProperties", True)
        extra = {} if extra is True else extra
        yield from ((item, properties.get(key, extra), f"{path}.{key}") for key, item in value.items())


def _is_type(value: Any, name: str) -> bool:
    if name in ("integer", "number"):  # bool is an int in Python, never a number in JSON; 1.0 is an integer
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        return numeric and (name == "number" or isinstance(value, int) or value.is_integer())
    kind = _PY_TYPES.get(name)
    return kind is not None and isinstance(value, kind)


def _type_name(value: Any) -> str:
    return next((name for name in _JSON_TYPES if _is_type(value, name)), type(value).__name__)


def _same(value: Any, option: Any) -> bool:
    return bool(value == option) and isinstance(value, bool) == isinstance(option, bool)  # True is not 1 in JSON
