"""A scripted OpenAI-compatible chat server on 127.0.0.1, for measuring the LLM path without an LLM.

It answers ``POST /v1/chat/completions`` the way a well-behaved model would answer Engram's
extraction prompt: it reads the numbered lines of the user message (``[n] 2023-05-08
(Monday) Ana: text``), runs an offline ``Extractor`` over them and returns the claims as the
JSON object the prompt asks for. Usage is reported like a server does, with tokens estimated
as characters / 4 (``TOKEN_CHARS``), so calls per event and tokens per event measure Engram's
real prompts and batching. What it cannot measure is a real model's extraction quality.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engram.llm.extraction import Extractor, Utterance

__all__ = ["TOKEN_CHARS", "scripted_llm"]

TOKEN_CHARS = 4
_LINE = re.compile(r"^\[(\d+)\] (\d{4}-\d{2}-\d{2}) \(\w+\)(?: ([^:]+))?: (.*)$")


def _answer(extractor: Extractor, prompt: str) -> dict[str, Any]:
    utterances = []
    for line in prompt.splitlines():
        m = _LINE.match(line)
        if m:
            said = datetime.fromisoformat(m.group(2)).replace(tzinfo=timezone.utc)
            utterances.append(Utterance(m.group(1), m.group(4), m.group(3), said))
    claims = [
        {
            "line": int(c.source),
            "subject": c.subject,
            "predicate": c.predicate,
            "object": c.object,
            "when": c.when,
            "object_type": c.object_type,
            "confidence": c.confidence,
        }
        for c in extractor.extract(utterances)
    ]
    return {"claims": claims}


def _handler(extractor: Extractor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            messages = body["messages"]
            content = json.dumps(_answer(extractor, messages[-1]["content"]))
            prompt = sum(len(m["content"]) for m in messages) // TOKEN_CHARS
            completion = len(content) // TOKEN_CHARS
            reply = {
                "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@contextmanager
def scripted_llm(extractor: Extractor) -> Iterator[str]:
    """Serve the scripted model while the block runs; yields its base URL (``http://127.0.0.1:PORT/v1``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(extractor))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
