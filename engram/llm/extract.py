"""Fact extraction with an LLM, batched and validated, and a wrapper that falls back to an offline extractor.

``LLMExtractor`` sends utterances in batches, one prompt per batch: numbered lines with date,
weekday and speaker, so the model can resolve "I" and "yesterday". The answer is constrained by
a JSON schema (``{"claims": [...]}``, predicates and object types as enums) where the server
supports it.

Validation rule. The client checks the answer's *structure* (JSON, required fields, types) and
retries a malformed answer; once its retries are spent the batch fails with ``LLMError``.
Everything else is checked claim by claim: line number in range, predicate and object type in
the vocabulary, ``when`` in an ISO form (``2023-05-07``, ``2023-W22``, ``2023-06``, ``2022``)
naming a real date, non-empty subject and object, confidence in (0, 1]. A claim that fails is
dropped, logged (logger ``engram.llm``) and counted in ``LLMExtractor.rejected``; the rest of the
answer is kept, because at temperature 0 a retry would repeat the same answer and lose the good
claims with the bad. If more than half of an answer's claims fail, the answer as a whole is
unusable and the batch raises ``LLMError``. A blank ``when`` counts as null; a first-person
subject ("I", "me") is resolved to the line's speaker, and one that names no one ("you", or "I"
on a line without a speaker) fails like any other bad value.

``FallbackExtractor`` runs an ``LLMExtractor`` batch by batch and extracts a batch that raised
``LLMError`` with an offline extractor instead, so a failing endpoint degrades extraction and
never turns it into an empty result; ``report()`` says what happened and what it cost.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from engram.errors import InvalidInput, LLMError
from engram.llm.client import LLMClient, LLMConfig, Messages, Schema, Usage
from engram.llm.extraction import OBJECT_TYPES, PREDICATES, Claim, Extractor, Utterance
from engram.llm.rules import RuleExtractor

__all__ = [
    "default_extractor",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_GIVE_UP_AFTER",
    "KEPT_RECORDS",
    "ExtractionReport",
    "FallbackExtractor",
    "LLMExtractor",
    "with_rules_fallback",
]

logger = logging.getLogger("engram.llm")

DEFAULT_BATCH_SIZE = 20
DEFAULT_GIVE_UP_AFTER = 3  # consecutive failed batches after which the rest of a run skips the LLM
KEPT_RECORDS = 1000  # per-call usages and error messages kept for reports; counts and totals stay exact
_FIRST_PERSON = frozenset({"i", "me", "my", "myself", "mine"})
_SECOND_PERSON = frozenset({"you", "your", "yourself", "yours"})
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # not %A: locale
_WHEN = re.compile(r"(\d{4})(?:-W(\d{2})|-(\d{2})(?:-(\d{2}))?)?")

SYSTEM_PROMPT = """\
You extract facts about people from conversation lines for a long-term memory.
Each line reads: [number] date (weekday) speaker: text

For every fact a line states, give one claim:
- line: the line's number
- subject: the person the fact is about, by name. "I", "me", "my" mean the line's speaker;
  for "you", name the person spoken to, or skip the fact if the lines do not say who that is.
- predicate, one of:
  is (identity or lasting trait), age (years), from (origin), lives_in (current home),
  moved_to, visited (place travelled to), works_as (job, role), works_at (employer, team),
  studies (subject or school), has_child, has_pet, has_relative (parent, sibling, other family),
  partner_of (spouse, partner), friend_of (named friend), likes (hobby, favourite, fan of),
  dislikes, allergic_to, plans (intended or scheduled activity), owns (includes bought, got),
  attended (event, group, class, concert), did (any other activity or life event)
- object: short and canonical, e.g. "Sweden", "painting", "Luna", "nurse"; no articles.
- when: when the event happened, worked out from the line's date: a day 2023-05-07, a week
  2023-W19, a month 2023-05 or a year 2023. "yesterday" is the day before the line's date,
  "last week" the week before. null for lasting facts with no time.
- object_type: person, place, organisation, pet or thing when the object names one; else null.
- confidence: 1.0 when plainly stated, lower when hedged.

Only facts the line itself states. Skip questions, greetings, jokes and guesses; skip lines
with no facts. If nothing is stated, answer {"claims": []}.

Example lines:
[1] 2023-05-08 (Monday) Ana: I went to a pottery class yesterday with my sister Rita!
[2] 2023-05-08 (Monday) Ben: Nice! Do you still live in Porto?
Example answer:
{"claims": [
{"line": 1, "subject": "Ana", "predicate": "attended", "object": "pottery class", "when": "2023-05-07", \
"object_type": null, "confidence": 1.0},
{"line": 1, "subject": "Ana", "predicate": "has_relative", "object": "Rita", "when": null, \
"object_type": "person", "confidence": 1.0}]}"""


def _answer_schema(*, vocabulary: bool) -> Schema:
    """The answer's JSON schema; with ``vocabulary``, predicates and object types as enums."""
    predicate: Schema = {"type": "string"}
    object_type: Schema = {"type": ["string", "null"]}
    if vocabulary:
        predicate["enum"] = sorted(PREDICATES)
        object_type["enum"] = [*sorted(OBJECT_TYPES), None]
    properties: Schema = {
        "line": {"type": "integer"},
        "subject": {"type": "string"},
        "predicate": predicate,
        "object": {"type": "string"},
        "when": {"type": ["string", "null"]},
        "object_type": object_type,
        "confidence": {"type": "number"},
    }
    claim = {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}
    claims = {"type": "array", "items": claim}
    return {"type": "object", "properties": {"claims": claims}, "required": ["claims"], "additionalProperties": False}


ANSWER_SCHEMA = _answer_schema(vocabulary=True)  # sent to the server
_ANSWER_STRUCTURE = _answer_schema(vocabulary=False)  # what the client checks; the vocabulary is checked per claim


class LLMExtractor:
    """An ``Extractor`` that asks an LLM, one call per batch of utterances.

    ``calls`` holds the ``Usage`` of each call, failed calls included, in call order (the last
    ``KEPT_RECORDS``); ``usage`` sums all of them; ``rejected`` counts the claims dropped by
    validation (see the module docstring). All cover the extractor's lifetime. One extraction at
    a time per instance.
    """

    def __init__(self, client: LLMClient, *, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        if batch_size < 1:
            raise InvalidInput(f"batch_size must be >= 1, got {batch_size}")
        self.client = client
        self.batch_size = batch_size
        self.name = f"llm:{client.config.model}"
        self.rejected = 0
        self.usage = Usage()  # over every call, beyond those kept in ``calls``
        self._calls: deque[Usage] = deque(maxlen=KEPT_RECORDS)

    @property
    def calls(self) -> tuple[Usage, ...]:
        """Usage of the latest calls (tokens, retries, whether it failed), oldest first."""
        return tuple(self._calls)

    def extract(self, utterances: Sequence[Utterance]) -> list[Claim]:
        """The claims stated by ``utterances``, in utterance order.

        Raises:
            LLMError: a batch failed after the client's retries, or more than half its claims were invalid.
        """
        return [claim for batch in _batches(utterances, self.batch_size) for claim in self._extract_batch(batch)]

    def _extract_batch(self, batch: Sequence[Utterance]) -> list[Claim]:
        answer = self._ask(_prompt(batch))
        numbered: list[tuple[int, Claim]] = []
        problems: list[str] = []
        for item in answer["claims"]:
            try:
                numbered.append(_claim_of(item, batch))
            except _Rejected as exc:
                problems.append(str(exc))
        self._reject(problems, len(answer["claims"]), batch)
        numbered.sort(key=lambda pair: pair[0])  # stable: the model's order within a line stays
        return [claim for _, claim in numbered]

    def _ask(self, messages: Messages) -> Any:
        before = self.client.usage
        try:
            answer, usage = self.client.complete_json(
                messages, schema=ANSWER_SCHEMA, name="claims", accept=_ANSWER_STRUCTURE
            )
        except LLMError:
            self._record(self.client.usage - before)  # exact unless the client serves other threads meanwhile
            raise
        self._record(usage)
        return answer

    def _record(self, usage: Usage) -> None:
        self._calls.append(usage)
        self.usage += usage

    def _reject(self, problems: list[str], total: int, batch: Sequence[Utterance]) -> None:
        """Count and log dropped claims; raise when they are most of the answer."""
        self.rejected += len(problems)
        for problem in problems:
            logger.warning("%s dropped a claim: %s", self.name, problem)
        if 2 * len(problems) > total:
            keys = f"{batch[0].key}..{batch[-1].key}"
            raise LLMError(f"{len(problems)} of {total} claims invalid for utterances {keys}, e.g. {problems[0]}")


class _Rejected(Exception):
    """One claim of an answer failed validation; the message says why."""


def _claim_of(item: dict[str, Any], batch: Sequence[Utterance]) -> tuple[int, Claim]:
    """The line number and claim of ``item``, an answer's claim about ``batch`` (structurally valid already).

    Raises:
        _Rejected: a value is out of range or outside the vocabulary.
    """
    line = int(item["line"])  # 3.0 passes the client's integer check
    problem = f"line {line} is not in 1..{len(batch)}" if not 1 <= line <= len(batch) else _value_problem(item)
    if problem:
        raise _Rejected(f"{problem}: {json.dumps(item)}")
    utterance = batch[line - 1]
    subject = _subject(item["subject"].strip(), utterance)
    if subject is None:
        raise _Rejected(f"subject {item['subject']!r} does not name anyone on that line: {json.dumps(item)}")
    return line, Claim(
        subject=subject,
        predicate=item["predicate"],
        object=item["object"].strip(),
        source=utterance.key,
        when=(item["when"] or "").strip() or None,
        object_type=item["object_type"],
        confidence=float(item["confidence"]),
    )


def _value_problem(item: dict[str, Any]) -> str | None:
    """What is wrong with the values of a claim, or None."""
    when = (item["when"] or "").strip()  # a blank ``when`` means no time, like null
    if not item["subject"].strip() or not item["object"].strip():
        return "empty subject or object"
    if item["predicate"] not in PREDICATES:
        return f"unknown predicate {item['predicate']!r}"
    if item["object_type"] is not None and item["object_type"] not in OBJECT_TYPES:
        return f"unknown object_type {item['object_type']!r}"
    if when and not _is_iso_when(when):
        return f"when {when!r} is not an ISO day, week, month or year"
    if not 0 < item["confidence"] <= 1:
        return f"confidence {item['confidence']} is not in (0, 1]"
    return None


def _subject(subject: str, utterance: Utterance) -> str | None:
    """The subject with first person resolved to the speaker; None where it names no one (you, I of nobody)."""
    lowered = subject.lower()
    if lowered in _FIRST_PERSON:
        return utterance.speaker or None
    return None if lowered in _SECOND_PERSON else subject


def _is_iso_when(text: str) -> bool:
    """Whether ``text`` is a real ISO day (2023-05-07), week (2023-W22), month (2023-06) or year (2022)."""
    match = _WHEN.fullmatch(text)
    if not match:
        return False
    year, week, month, day = (int(part) if part else None for part in match.groups())
    try:
        if week is not None:
            date.fromisocalendar(year or 0, week, 1)
        else:
            date(year or 0, month or 1, day or 1)
    except ValueError:
        return False
    return True


def _prompt(batch: Sequence[Utterance]) -> Messages:
    """The chat messages for one batch: the instructions, then the numbered lines."""
    lines = "\n".join(_line(number, utterance) for number, utterance in enumerate(batch, start=1))
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": lines}]


def _line(number: int, utterance: Utterance) -> str:
    said = utterance.said_at
    speaker = f" {utterance.speaker}" if utterance.speaker else ""
    text = " ".join(utterance.text.split())  # one line per utterance, whatever its newlines
    return f"[{number}] {said.date().isoformat()} ({_WEEKDAYS[said.weekday()]}){speaker}: {text}"


def _batches(utterances: Sequence[Utterance], size: int) -> Iterator[Sequence[Utterance]]:
    """Consecutive slices of at most ``size`` utterances."""
    for start in range(0, len(utterances), size):
        yield utterances[start : start + size]


@dataclass(frozen=True)
class ExtractionReport:
    """What a ``FallbackExtractor`` has done so far.

    ``batches`` = ``via_primary`` + ``via_fallback``. ``skipped`` counts fallback batches the LLM
    was not asked about, because it had already failed ``give_up_after`` batches in a row.
    ``errors`` has the messages of the batches the LLM failed. ``rejected``, ``usage`` and
    ``calls`` are the primary's: claims dropped by validation, tokens and counters summed over all
    LLM calls, and ``Usage`` per call. ``errors`` and ``calls`` keep the last ``KEPT_RECORDS``.
    """

    extractor: str
    batches: int = 0
    via_primary: int = 0
    via_fallback: int = 0
    skipped: int = 0
    rejected: int = 0
    errors: tuple[str, ...] = ()
    usage: Usage = Usage()
    calls: tuple[Usage, ...] = ()


class FallbackExtractor:
    """An ``Extractor`` that uses the LLM per batch and the offline ``fallback`` where the LLM fails.

    Batches are the primary's (``primary.batch_size``). Once ``give_up_after`` batches in a row
    have failed, the rest of that ``extract`` call goes straight to the fallback, so a dead
    endpoint costs a few timeouts rather than one per batch; the next call tries the LLM again.
    An error of the fallback itself propagates.
    """

    def __init__(
        self, primary: LLMExtractor, fallback: Extractor, *, give_up_after: int = DEFAULT_GIVE_UP_AFTER
    ) -> None:
        if give_up_after < 1:
            raise InvalidInput(f"give_up_after must be >= 1, got {give_up_after}")
        self.primary = primary
        self.fallback = fallback
        self.give_up_after = give_up_after
        self.name = f"{primary.name}|{fallback.name}"
        self._via_primary = self._via_fallback = self._skipped = 0
        self._errors: deque[str] = deque(maxlen=KEPT_RECORDS)

    def extract(self, utterances: Sequence[Utterance]) -> list[Claim]:
        """The claims stated by ``utterances``, in utterance order, from the LLM or, batch by batch, the fallback."""
        claims: list[Claim] = []
        failed_in_row = 0
        for batch in _batches(utterances, self.primary.batch_size):
            if failed_in_row >= self.give_up_after:
                self._skipped += 1
                claims += self._extract_offline(batch)
                continue
            try:
                claims += self.primary.extract(batch)
            except LLMError as exc:
                failed_in_row += 1
                claims += self._recover(batch, exc)
                if failed_in_row == self.give_up_after:
                    logger.warning(
                        "%s failed %d batches in a row; not asking it again this run", self.primary.name, failed_in_row
                    )
            else:
                failed_in_row = 0
                self._via_primary += 1
        return claims

    def _recover(self, batch: Sequence[Utterance], exc: LLMError) -> list[Claim]:
        self._errors.append(str(exc))
        logger.warning(
            "%s failed on %d utterances (%s..%s), extracting them with %s: %s",
            self.primary.name,
            len(batch),
            batch[0].key,
            batch[-1].key,
            self.fallback.name,
            exc,
        )
        return self._extract_offline(batch)

    def _extract_offline(self, batch: Sequence[Utterance]) -> list[Claim]:
        claims = self.fallback.extract(batch)
        self._via_fallback += 1
        return claims

    def report(self) -> ExtractionReport:
        """Counters over this extractor's lifetime; the usage figures are the primary's."""
        return ExtractionReport(
            extractor=self.name,
            batches=self._via_primary + self._via_fallback,
            via_primary=self._via_primary,
            via_fallback=self._via_fallback,
            skipped=self._skipped,
            rejected=self.primary.rejected,
            errors=tuple(self._errors),
            usage=self.primary.usage,
            calls=self.primary.calls,
        )


def with_rules_fallback(config: LLMConfig) -> FallbackExtractor:
    """The LLM extractor of ``config``, with the offline rules taking every batch it fails."""
    return FallbackExtractor(LLMExtractor(LLMClient(config)), RuleExtractor())


def default_extractor() -> Extractor:
    """The offline rule extractor, or an LLM backed by it when ``ENGRAM_LLM_*`` is configured."""

    config = LLMConfig.from_env()
    return RuleExtractor() if config is None else with_rules_fallback(config)
