"""LLMExtractor and FallbackExtractor against a scripted OpenAI-compatible server on 127.0.0.1 (real HTTP)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from test_llm_client import Answer, ScriptedServer, error, reply, reply_json

from engram.errors import InvalidInput, LLMError
from engram.llm import extract as extract_module
from engram.llm.client import INSTRUCTION, LLMClient, LLMConfig, Usage
from engram.llm.extract import ANSWER_SCHEMA, ExtractionReport, FallbackExtractor, LLMExtractor
from engram.llm.extraction import PREDICATES, Claim, Extractor, Utterance

MONDAY = datetime(2023, 5, 8, 14, 30, tzinfo=timezone.utc)
_LIVES_IN = re.compile(r"\bI live in ([A-Z][a-z]+)")


class LivesInRules:
    """The offline twin: finds "I live in X" and nothing else (deterministic, no LLM)."""

    name = "twin"

    def extract(self, utterances: Sequence[Utterance]) -> list[Claim]:
        found = ((u, _LIVES_IN.search(u.text)) for u in utterances)
        return [Claim(u.speaker or "?", "lives_in", m.group(1), u.key, None, "place") for u, m in found if m]


def utterances(count: int, start: int = 0) -> list[Utterance]:
    """Ana and Ben taking turns, one line a day; each lives somewhere the twin can read."""
    return [
        Utterance(f"e{i}", f"I live in City{chr(97 + i % 26)} and I like tea.", "Ana" if i % 2 == 0 else "Ben", day)
        for i, day in ((i, MONDAY + timedelta(days=i)) for i in range(start, start + count))
    ]


def claim(line: int, **fields: Any) -> dict[str, Any]:
    """One claim as the model writes it."""
    base = {"subject": "Ana", "predicate": "likes", "object": "tea", "when": None, "object_type": None}
    return {"line": line, **base, "confidence": 1.0, **fields}


def answer(*claims: dict[str, Any], prompt_tokens: int = 0, completion_tokens: int = 0) -> Answer:
    return reply_json({"claims": list(claims)}, prompt_tokens, completion_tokens)


def make_llm(server: ScriptedServer, batch_size: int = 20, **options: Any) -> LLMExtractor:
    settings: dict[str, Any] = {"timeout": 0.3, "backoff": 0.01, "max_retries": 1, **options}
    return LLMExtractor(LLMClient(LLMConfig(url=server.url, model="scripted", **settings)), batch_size=batch_size)


def make_fallback(server: ScriptedServer, batch_size: int = 20, **options: Any) -> FallbackExtractor:
    return FallbackExtractor(make_llm(server, batch_size, **options), LivesInRules())


def lines_sent(request_body: dict[str, Any]) -> list[str]:
    return str(request_body["messages"][-1]["content"]).splitlines()


def test_well_formed_answer_gives_claims_with_sources(server: ScriptedServer) -> None:
    batch = [
        Utterance("a1", "I adopted a dog, Luna, yesterday.", "Ana", MONDAY),
        Utterance("b1", "Cool!\nI'm a nurse.", "Ben", MONDAY + timedelta(days=1)),
    ]
    server.play(
        answer(
            claim(2, subject="Ben", predicate="works_as", object="nurse"),
            claim(1, subject="I", predicate="has_pet", object=" Luna ", when="2023-05-07", object_type="pet"),
            prompt_tokens=300,
            completion_tokens=40,
        )
    )
    llm = make_llm(server)
    assert llm.name == "llm:scripted"
    assert llm.extract(batch) == [
        Claim("Ana", "has_pet", "Luna", "a1", "2023-05-07", "pet"),
        Claim("Ben", "works_as", "nurse", "b1"),
    ]
    [request] = server.received
    assert lines_sent(request.body) == [
        "[1] 2023-05-08 (Monday) Ana: I adopted a dog, Luna, yesterday.",
        "[2] 2023-05-09 (Tuesday) Ben: Cool! I'm a nurse.",
    ]
    assert request.body["response_format"]["json_schema"]["schema"] == ANSWER_SCHEMA
    assert llm.calls == (Usage(300, 40, 340, calls=1),) and llm.rejected == 0


def test_schema_enumerates_the_vocabulary() -> None:
    properties = ANSWER_SCHEMA["properties"]["claims"]["items"]["properties"]
    assert set(properties["predicate"]["enum"]) == PREDICATES
    assert None in properties["object_type"]["enum"]


def test_batches_make_one_call_each_and_usage_sums(server: ScriptedServer) -> None:
    server.play(*(answer(claim(1), prompt_tokens=100 + n, completion_tokens=10) for n in range(3)))
    extractor = make_fallback(server, batch_size=20)
    claims = extractor.extract(utterances(45))
    assert [c.source for c in claims] == ["e0", "e20", "e40"]
    assert [len(lines_sent(r.body)) for r in server.received] == [20, 20, 5]
    assert lines_sent(server.received[1].body)[0].startswith("[1] 2023-05-28 (Sunday) Ana: ")
    report = extractor.report()
    assert (report.batches, report.via_primary, report.via_fallback, report.errors) == (3, 3, 0, ())
    assert report.calls == tuple(Usage(100 + n, 10, 110 + n, calls=1) for n in range(3))
    assert report.usage == Usage(303, 30, 333, calls=3)


def test_reports_keep_the_latest_calls_and_exact_totals(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract_module, "KEPT_RECORDS", 2)
    server.play(*(answer(claim(1), prompt_tokens=n, completion_tokens=1) for n in (10, 20, 30)))
    extractor = make_fallback(server, batch_size=1)
    extractor.extract(utterances(3))
    report = extractor.report()
    assert [c.prompt_tokens for c in report.calls] == [20, 30]
    assert report.usage == Usage(60, 3, 63, calls=3)


def test_malformed_json_once_is_retried_and_claims_kept(server: ScriptedServer) -> None:
    server.play(reply('{"claims": [{"line": 1, "subj'), answer(claim(1)))
    extractor = make_fallback(server)
    assert extractor.extract(utterances(1)) == [Claim("Ana", "likes", "tea", "e0")]
    report = extractor.report()
    assert (report.via_primary, report.via_fallback, report.calls[0].retries) == (1, 0, 1)


def test_always_malformed_batch_falls_back_and_others_use_the_llm(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.play(answer(claim(1)), reply("not json"), reply("still not json"), answer(claim(2, subject="Ben")))
    extractor = make_fallback(server, batch_size=2)
    with caplog.at_level(logging.WARNING, logger="engram.llm"):
        claims = extractor.extract(utterances(6))
    assert [(c.source, c.predicate) for c in claims] == [("e0", "likes"), ("e2", "lives_in"), ("e3", "lives_in")] + [
        ("e5", "likes")
    ]
    report = extractor.report()
    assert (report.batches, report.via_primary, report.via_fallback, report.skipped) == (3, 2, 1, 0)
    [message] = report.errors
    assert "answer is not JSON" in message and "gave up after 2 attempts" in message
    assert [c.failures for c in report.calls] == [0, 1, 0]
    assert any("extracting them with twin" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (claim(1, predicate="lives"), "unknown predicate 'lives'"),
        (claim(1, object_type="city"), "unknown object_type 'city'"),
        (claim(0), r"line 0 is not in 1\.\.2"),
        (claim(3), r"line 3 is not in 1\.\.2"),
        (claim(1, when="last week"), "when 'last week' is not an ISO"),
        (claim(1, when="2023-02-30"), "when '2023-02-30'"),
        (claim(1, when="2023-W54"), "when '2023-W54'"),
        (claim(1, when="2023-13"), "when '2023-13'"),
        (claim(1, when="2023-5-7"), "when '2023-5-7'"),
        (claim(1, subject="  "), "empty subject or object"),
        (claim(1, object=""), "empty subject or object"),
        (claim(1, confidence=0), r"confidence 0 is not in \(0, 1\]"),
        (claim(1, confidence=1.5), r"confidence 1\.5 is not in \(0, 1\]"),
    ],
)
def test_invalid_claim_is_dropped_logged_and_counted(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture, bad: dict[str, Any], reason: str
) -> None:
    server.play(answer(claim(1), bad, claim(2, subject="Ben")))
    extractor = make_fallback(server, batch_size=2)
    with caplog.at_level(logging.WARNING, logger="engram.llm"):
        claims = extractor.extract(utterances(2))
    assert [(c.subject, c.source) for c in claims] == [("Ana", "e0"), ("Ben", "e1")]
    assert len(server.received) == 1  # dropped, not retried
    report = extractor.report()
    assert (report.rejected, report.via_primary) == (1, 1)
    [record] = caplog.records
    assert record.name == "engram.llm" and record.levelno == logging.WARNING
    assert re.search(reason, record.getMessage())


@pytest.mark.parametrize("when", ["2023-05-07", "2023-W22", "2020-W53", "2023-06", "2022", "2024-02-29"])
def test_iso_forms_of_when_are_kept(server: ScriptedServer, when: str) -> None:
    server.play(answer(claim(1, when=when)))
    [kept] = make_llm(server).extract(utterances(1))
    assert kept.when == when


@pytest.mark.parametrize("blank", ["", "  "])
def test_blank_when_means_no_time(server: ScriptedServer, blank: str) -> None:
    server.play(answer(claim(1, when=blank)))
    assert make_llm(server).extract(utterances(1))[0].when is None


def test_subjects_that_name_no_one_are_dropped(server: ScriptedServer, caplog: pytest.LogCaptureFixture) -> None:
    server.play(answer(claim(1, subject="I"), claim(2, subject="me"), claim(2, subject="Ana"), claim(1, subject="You")))
    batch = [Utterance("x", "I like tea.", "Ana", MONDAY), Utterance("y", "I like tea, Ana.", None, MONDAY)]
    llm = make_llm(server)
    with caplog.at_level(logging.WARNING, logger="engram.llm"):
        assert [(c.subject, c.source) for c in llm.extract(batch)] == [("Ana", "x"), ("Ana", "y")]
    assert llm.rejected == 2
    assert ["'me' does not name" in m or "'You' does not name" in m for m in caplog.messages] == [True, True]
    assert lines_sent(server.received[0].body)[1] == "[2] 2023-05-08 (Monday): I like tea, Ana."


def test_answer_mostly_invalid_is_unusable_and_falls_back(server: ScriptedServer) -> None:
    server.play(answer(claim(1), claim(9), claim(1, when="soon")))
    extractor = make_fallback(server, batch_size=2)
    assert [c.predicate for c in extractor.extract(utterances(2))] == ["lives_in", "lives_in"]
    report = extractor.report()
    assert (report.rejected, report.via_fallback) == (2, 1)
    assert report.errors[0].startswith("2 of 3 claims invalid for utterances e0..e1, e.g. line 9")


def test_structural_violation_is_retried_then_falls_back(server: ScriptedServer) -> None:
    wrong_type = {**claim(1), "line": "1"}
    missing = {k: v for k, v in claim(1).items() if k != "confidence"}
    server.play(answer(wrong_type), answer(missing))
    extractor = make_fallback(server)
    assert [c.predicate for c in extractor.extract(utterances(1))] == ["lives_in"]
    [message] = extractor.report().errors
    assert "missing required property 'confidence'" in message


def test_slow_server_times_out_retries_then_falls_back(server: ScriptedServer) -> None:
    slow = Answer(body=answer(claim(1)).body, delay=2.0)
    server.play(slow, slow)
    extractor = make_fallback(server, timeout=0.2)
    assert [c.predicate for c in extractor.extract(utterances(1))] == ["lives_in"]
    report = extractor.report()
    assert len(server.received) == 2
    assert "timed out" in report.errors[0] and report.calls[0].retries == 1


def test_server_errors_back_off_then_fall_back(server: ScriptedServer, sleeps: list[float]) -> None:
    server.play(error(500, "boom"), error(503, "busy"))
    extractor = make_fallback(server)
    assert [c.predicate for c in extractor.extract(utterances(1))] == ["lives_in"]
    assert sleeps == [0.01]
    assert re.match(r"HTTP 503 from http://127\.0\.0\.1:\d+/v1/chat/completions: .*busy", extractor.report().errors[0])


def test_unauthorised_fails_fast_then_falls_back(server: ScriptedServer, sleeps: list[float]) -> None:
    server.play(error(401, "invalid api key sk-secret"))
    extractor = make_fallback(server, api_key="sk-secret")
    assert [c.predicate for c in extractor.extract(utterances(1))] == ["lives_in"]
    assert len(server.received) == 1 and sleeps == []
    report = extractor.report()
    assert "HTTP 401" in report.errors[0] and "check ENGRAM_LLM_API_KEY" in report.errors[0]
    assert "sk-secret" not in report.errors[0]
    assert report.calls == (Usage(calls=1, failures=1),)


def test_server_without_response_format_gets_instructions(server: ScriptedServer) -> None:
    server.play(error(400, "response_format is not supported"), answer(claim(1)), answer(claim(1)))
    extractor = make_fallback(server, batch_size=1)
    assert [c.predicate for c in extractor.extract(utterances(2))] == ["likes", "likes"]
    first, instructed, later = (r.body for r in server.received)
    assert "response_format" in first and "response_format" not in instructed and "response_format" not in later
    system = instructed["messages"][0]["content"]
    assert system.startswith("You extract facts") and system.endswith(INSTRUCTION + json.dumps(ANSWER_SCHEMA))
    assert extractor.report().via_primary == 2


def test_llm_is_skipped_after_failing_batches_in_a_row(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.play(answer(claim(1)), *[error(404, "no such model")] * 2)
    extractor: Extractor = FallbackExtractor(make_llm(server, batch_size=1), LivesInRules(), give_up_after=2)
    assert isinstance(extractor, FallbackExtractor)
    with caplog.at_level(logging.WARNING, logger="engram.llm"):
        assert [c.predicate for c in extractor.extract(utterances(5))] == ["likes"] + ["lives_in"] * 4
    assert "failed 2 batches in a row; not asking it again this run" in caplog.messages[-1]
    assert len(server.received) == 3
    report = extractor.report()
    assert (report.via_primary, report.via_fallback, report.skipped, len(report.errors)) == (1, 4, 2, 2)
    server.play(answer(claim(1)))  # a new run tries the LLM again
    assert extractor.extract(utterances(1))[0].predicate == "likes"


def test_llm_extractor_alone_raises(server: ScriptedServer) -> None:
    server.play(error(401, "no"))
    llm = make_llm(server)
    with pytest.raises(LLMError, match="HTTP 401"):
        llm.extract(utterances(1))
    assert llm.calls == (Usage(calls=1, failures=1),)


def test_nothing_to_extract_makes_no_call(server: ScriptedServer) -> None:
    extractor = make_fallback(server)
    assert extractor.extract([]) == []
    assert extractor.report() == ExtractionReport(extractor="llm:scripted|twin")


def test_a_line_without_facts_is_not_a_failure(server: ScriptedServer) -> None:
    server.play(answer())
    extractor = make_fallback(server)
    assert extractor.extract(utterances(1)) == []
    assert extractor.report().via_primary == 1


def test_bad_options_are_rejected(server: ScriptedServer) -> None:
    with pytest.raises(InvalidInput, match="batch_size"):
        make_llm(server, batch_size=0)
    with pytest.raises(InvalidInput, match="give_up_after"):
        FallbackExtractor(make_llm(server), LivesInRules(), give_up_after=0)
