"""LLMClient against a scripted OpenAI-compatible server on 127.0.0.1 (real HTTP, no mocks)."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest

from engram.errors import InvalidInput, LLMError
from engram.llm.client import INSTRUCTION, LLMClient, LLMConfig, Usage, schema_violation

KEY = "sk-test-secret-123"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "facts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"subject": {"type": "string"}, "object": {"type": ["string", "null"]}},
                "required": ["subject", "object"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["facts"],
    "additionalProperties": False,
}
GOOD = {"facts": [{"subject": "Ada", "object": "London"}]}
MESSAGES = [{"role": "user", "content": "Ada moved to London."}]


@dataclass
class Answer:
    """One scripted response: status, raw body, extra headers and an optional delay before it is sent."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def reply(content: str, prompt_tokens: int = 0, completion_tokens: int = 0) -> Answer:
    body: dict[str, Any] = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {}}]}
    body["choices"][0]["message"] = {"role": "assistant", "content": content}
    if prompt_tokens or completion_tokens:
        total = prompt_tokens + completion_tokens
        body["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": total}
    return Answer(body=json.dumps(body).encode())


def reply_json(value: Any, prompt_tokens: int = 0, completion_tokens: int = 0) -> Answer:
    return reply(json.dumps(value), prompt_tokens, completion_tokens)


def error(status: int, message: str) -> Answer:
    return Answer(status=status, body=json.dumps({"error": {"message": message}}).encode())


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Script:
    answers: deque[Answer] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins handler threads, so none outlives the test

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        script = cast(_Server, self.server).script
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        script.received.append(Received(self.path, dict(self.headers.items()), json.loads(raw)))
        answer = script.answers.popleft() if script.answers else error(599, "script exhausted")
        if answer.delay:
            script.stopping.wait(answer.delay)  # woken early at teardown
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and hung up, as the slow tests intend

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


class ScriptedServer:
    """An OpenAI-compatible endpoint that plays back ``answers`` in order and records requests."""

    def __init__(self) -> None:
        self.script = Script()
        self._httpd = _Server(self.script)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02})
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def received(self) -> list[Received]:
        return self.script.received

    def play(self, *answers: Answer) -> None:
        self.script.answers.extend(answers)

    def close(self) -> None:
        self.script.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def make_client(server: ScriptedServer, **options: Any) -> LLMClient:
    settings: dict[str, Any] = {"timeout": 0.3, "backoff": 0.01, "max_retries": 2, **options}
    return LLMClient(LLMConfig(url=server.url, model="scripted", **settings))


def test_well_formed_answer(server: ScriptedServer) -> None:
    server.play(reply_json(GOOD, prompt_tokens=12, completion_tokens=5))
    value, usage = make_client(server).complete_json(MESSAGES, schema=SCHEMA, name="facts")
    assert value == GOOD
    assert usage == Usage(prompt_tokens=12, completion_tokens=5, total_tokens=17, calls=1)
    [request] = server.received
    assert request.path == "/v1/chat/completions"
    assert request.body == {
        "model": "scripted",
        "messages": MESSAGES,
        "temperature": 0.0,
        "response_format": {"type": "json_schema", "json_schema": {"name": "facts", "schema": SCHEMA, "strict": True}},
    }


def test_fenced_answer_is_accepted(server: ScriptedServer) -> None:
    server.play(reply("Here it is:\n```json\n" + json.dumps(GOOD) + "\n```"))
    assert make_client(server).complete_json(MESSAGES, schema=SCHEMA)[0] == GOOD


def test_malformed_then_good_is_retried(
    server: ScriptedServer, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    server.play(reply("Sure! The facts are: Ada, London"), reply_json(GOOD))
    with caplog.at_level(logging.WARNING, logger="engram.llm"):
        value, usage = make_client(server).complete_json(MESSAGES, schema=SCHEMA)
    assert value == GOOD
    assert (usage.calls, usage.retries, usage.failures) == (1, 1, 0)
    assert sleeps == []  # a bad answer is retried at once; only transport failures back off
    assert [r.name for r in caplog.records] == ["engram.llm"]
    assert "answer is not JSON" in caplog.records[0].getMessage()


def test_schema_violation_every_time_raises_naming_the_path(server: ScriptedServer) -> None:
    bad = {"facts": [GOOD["facts"][0], GOOD["facts"][0], {"subject": 7, "object": None}]}
    server.play(*[reply_json(bad)] * 3)
    client = make_client(server)
    with pytest.raises(LLMError, match=r"answer does not match the schema: \$\.facts\[2\]\.subject: expected string"):
        client.complete_json(MESSAGES, schema=SCHEMA)
    assert len(server.received) == 3
    assert (client.usage.calls, client.usage.retries, client.usage.failures) == (1, 2, 1)


def test_not_json_every_time_raises(server: ScriptedServer) -> None:
    server.play(*[reply("{facts: [")] * 2)
    with pytest.raises(LLMError, match="answer is not JSON"):
        make_client(server, max_retries=1).complete_json(MESSAGES, schema=SCHEMA)


def test_response_that_is_not_a_completion_is_retried(server: ScriptedServer) -> None:
    server.play(Answer(body=b"<html>proxy error</html>"), Answer(body=b'{"choices": []}'), reply_json(GOOD))
    value, usage = make_client(server).complete_json(MESSAGES, schema=SCHEMA)
    assert (value, usage.retries) == (GOOD, 2)


def test_slow_answer_times_out_and_is_retried(server: ScriptedServer) -> None:
    server.play(Answer(body=reply_json(GOOD).body, delay=2.0), reply_json(GOOD))
    value, usage = make_client(server).complete_json(MESSAGES, schema=SCHEMA)
    assert (value, usage.retries) == (GOOD, 1)


def test_slow_every_time_raises(server: ScriptedServer) -> None:
    server.play(*[Answer(body=reply_json(GOOD).body, delay=2.0)] * 2)
    with pytest.raises(LLMError, match=r"cannot reach .*timed out.*gave up after 2 attempts"):
        make_client(server, timeout=0.2, max_retries=1).complete_json(MESSAGES, schema=SCHEMA)


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_server_error_then_good_backs_off(server: ScriptedServer, sleeps: list[float], status: int) -> None:
    server.play(error(status, "busy"), error(status, "busy"), reply_json(GOOD))
    value, usage = make_client(server, backoff=0.25).complete_json(MESSAGES, schema=SCHEMA)
    assert (value, usage.retries) == (GOOD, 2)
    assert sleeps == [0.25, 0.5]


@pytest.mark.parametrize(("retry_after", "pause"), [("3", 3.0), ("0.5", 0.5), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.25)])
def test_retry_after_sets_the_pause(
    server: ScriptedServer, sleeps: list[float], retry_after: str, pause: float
) -> None:
    limited = Answer(status=429, body=error(429, "slow down").body, headers={"Retry-After": retry_after})
    server.play(limited, reply_json(GOOD))
    assert make_client(server, backoff=0.25).complete_json(MESSAGES, schema=SCHEMA)[0] == GOOD
    assert sleeps == [pause]  # an HTTP date is not parsed: the usual backoff


def test_retry_after_beyond_the_limit_fails_at_once(server: ScriptedServer, sleeps: list[float]) -> None:
    server.play(Answer(status=429, body=error(429, "quota").body, headers={"Retry-After": "3600"}))
    with pytest.raises(LLMError, match=r"HTTP 429 .*quota.*asks to retry after 3600 s, more than 60"):
        make_client(server).complete_json(MESSAGES, schema=SCHEMA)
    assert len(server.received) == 1 and sleeps == []


def test_accept_replaces_the_schema_for_checking_only(server: ScriptedServer) -> None:
    strict = {"type": "object", "properties": {"kind": {"type": "string", "enum": ["a"]}}, "required": ["kind"]}
    loose = {"type": "object", "properties": {"kind": {"type": "string"}}, "required": ["kind"]}
    server.play(reply_json({"kind": "b"}))
    assert make_client(server).complete_json(MESSAGES, schema=strict, accept=loose)[0] == {"kind": "b"}
    assert server.received[0].body["response_format"]["json_schema"]["schema"] == strict


def test_usage_subtracts() -> None:
    assert Usage(10, 4, 14, calls=2, retries=1) - Usage(3, 1, 4, calls=1) == Usage(7, 3, 10, calls=1, retries=1)


def test_server_error_every_time_raises(server: ScriptedServer, sleeps: list[float]) -> None:
    server.play(*[error(500, "boom")] * 3)
    with pytest.raises(LLMError, match=r"HTTP 500 from http://127\.0\.0\.1:\d+/v1/chat/completions: .*boom"):
        make_client(server).complete_json(MESSAGES, schema=SCHEMA)
    assert len(sleeps) == 2


@pytest.mark.parametrize("status", [401, 403, 404, 422])
def test_client_errors_fail_at_once_without_the_key(server: ScriptedServer, status: int) -> None:
    server.play(error(status, f"Incorrect API key provided: {KEY}"))
    client = make_client(server, api_key=KEY)
    with pytest.raises(LLMError) as raised:
        client.complete_json(MESSAGES, schema=SCHEMA)
    message = str(raised.value)
    assert f"HTTP {status} from {server.url}/chat/completions" in message
    assert KEY not in message and KEY not in repr(client.config)
    assert len(server.received) == 1
    assert (client.usage.retries, client.usage.failures) == (0, 1)


def test_connection_refused_is_retried_then_raises(sleeps: list[float]) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = LLMClient(LLMConfig(url=f"http://127.0.0.1:{port}/v1", model="m", timeout=0.3, backoff=0.01))
    with pytest.raises(LLMError, match=f"cannot reach http://127.0.0.1:{port}/v1/chat/completions"):
        client.complete_json(MESSAGES, schema=SCHEMA)
    assert sleeps == [0.01, 0.02]


def test_server_without_response_format_gets_an_instruction(server: ScriptedServer) -> None:
    server.play(
        error(400, "Unrecognized request argument supplied: response_format"), reply_json(GOOD), reply_json(GOOD)
    )
    client = make_client(server)
    system = [{"role": "system", "content": "You extract facts."}]
    assert client.complete_json(system + MESSAGES, schema=SCHEMA) == (GOOD, Usage(calls=1))
    assert client.complete_json(MESSAGES, schema=SCHEMA)[0] == GOOD
    first, fallback, later = (r.body for r in server.received)
    assert "response_format" in first
    assert "response_format" not in fallback and "response_format" not in later
    instruction = INSTRUCTION + json.dumps(SCHEMA)
    assert fallback["messages"] == [{"role": "system", "content": "You extract facts.\n\n" + instruction}, *MESSAGES]
    assert later["messages"] == [{"role": "system", "content": instruction}, *MESSAGES]


def test_other_bad_request_fails_at_once(server: ScriptedServer) -> None:
    server.play(error(400, "context length exceeded"))
    with pytest.raises(LLMError, match="HTTP 400 .*context length exceeded"):
        make_client(server).complete_json(MESSAGES, schema=SCHEMA)


def test_usage_accumulates_across_calls_and_failed_attempts(server: ScriptedServer) -> None:
    server.play(reply("oops", 10, 2), reply_json(GOOD, 10, 4), reply_json(GOOD, 7, 3), error(401, "no"))
    client = make_client(server)
    assert client.complete_json(MESSAGES, schema=SCHEMA)[1] == Usage(20, 6, 26, calls=1, retries=1)
    client.complete_json(MESSAGES, schema=SCHEMA)
    with pytest.raises(LLMError):
        client.complete_json(MESSAGES, schema=SCHEMA)
    assert client.usage == Usage(27, 9, 36, calls=3, retries=1, failures=1)


@pytest.mark.parametrize("api_key", [None, KEY])
def test_authorization_header_only_with_a_key(server: ScriptedServer, api_key: str | None) -> None:
    server.play(reply_json(GOOD))
    make_client(server, api_key=api_key).complete_json(MESSAGES, schema=SCHEMA)
    headers = {k.lower(): v for k, v in server.received[0].headers.items()}
    assert headers.get("authorization") == (f"Bearer {KEY}" if api_key else None)
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"ENGRAM_LLM_API_KEY": KEY}, None),
        ({"ENGRAM_LLM_URL": "http://h/v1", "ENGRAM_LLM_MODEL": "m"}, LLMConfig(url="http://h/v1", model="m")),
        (
            {"ENGRAM_LLM_URL": "http://h/v1", "ENGRAM_LLM_MODEL": "m", "ENGRAM_LLM_API_KEY": KEY},
            LLMConfig(url="http://h/v1", model="m", api_key=KEY),
        ),
        (
            {"ENGRAM_LLM_URL": "http://h/v1", "ENGRAM_LLM_MODEL": "m", "ENGRAM_LLM_API_KEY": ""},
            LLMConfig(url="http://h/v1", model="m"),
        ),
    ],
)
def test_from_env(environ: dict[str, str], expected: LLMConfig | None) -> None:
    assert LLMConfig.from_env(environ) == expected


@pytest.mark.parametrize(
    ("environ", "missing"),
    [({"ENGRAM_LLM_URL": "http://h/v1"}, "ENGRAM_LLM_MODEL"), ({"ENGRAM_LLM_MODEL": "m"}, "ENGRAM_LLM_URL")],
)
def test_from_env_needs_both(environ: dict[str, str], missing: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{missing} is not set"):
        LLMConfig.from_env(environ)


def test_from_env_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENGRAM_LLM_URL", "http://h/v1")
    monkeypatch.setenv("ENGRAM_LLM_MODEL", "m")
    monkeypatch.delenv("ENGRAM_LLM_API_KEY", raising=False)
    assert LLMConfig.from_env() == LLMConfig(url="http://h/v1", model="m")


@pytest.mark.parametrize(
    "options", [{"url": "h/v1"}, {"model": ""}, {"timeout": 0}, {"max_retries": -1}, {"backoff": -0.1}]
)
def test_config_rejects_bad_values(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        LLMConfig(**{"url": "http://h/v1", "model": "m", **options})


NESTED = "$.x.y[0]: missing required property 'z'"


@pytest.mark.parametrize(
    ("value", "schema", "problem"),
    [
        ({"a": 1}, {"type": "object", "properties": {"a": {"type": "integer"}}}, None),
        (1.0, {"type": "integer"}, None),
        (1.5, {"type": "integer"}, "$: expected integer, got number"),
        (True, {"type": "number"}, "$: expected number, got boolean"),
        (None, {"type": ["string", "null"]}, None),
        (3, {"type": ["string", "null"]}, "$: expected string or null, got integer"),
        ("b", {"enum": ["a", "b"]}, None),
        ("c", {"enum": ["a", "b"]}, '$: expected one of ["a", "b"], got \'"c"\''),
        (True, {"enum": [1]}, "$: expected one of [1], got 'true'"),
        ({}, {"required": ["a"]}, "$: missing required property 'a'"),
        ({"a": 1, "b": 2}, {"properties": {"a": {}}, "additionalProperties": False}, "$.b: property not allowed"),
        ({"b": "x"}, {"additionalProperties": {"type": "integer"}}, "$.b: expected integer, got string"),
        ([1, "x"], {"type": "array", "items": {"type": "integer"}}, "$[1]: expected integer, got string"),
        ({"x": {"y": [{}]}}, {"properties": {"x": {"properties": {"y": {"items": {"required": ["z"]}}}}}}, NESTED),
    ],
)
def test_schema_violation(value: Any, schema: dict[str, Any], problem: str | None) -> None:
    assert schema_violation(value, schema) == problem
