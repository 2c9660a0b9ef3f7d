"""Fact extraction on LoCoMo turns: a labelled sample, its scorer and a regex baseline.

The gold sample (``data/facts_locomo_dev.jsonl``) names LoCoMo dev turns by
``(sample_id, dia_id)`` and lists the subject-predicate-object triples each turn states; the
turn text itself is never stored in the repository and is read from the LoCoMo file given by
path at run time. Lines with ``"facts": []`` are turns that state no personal fact (greetings,
questions, chit-chat); they exist to measure precision.

Labelling conventions:

- ``subject`` is a person's name: "I"/"my" resolve to the speaker.
- ``object`` is a short canonical noun phrase ("LGBTQ support group", "contemporary dance");
  for relations it is the name when one is given, else the relation word ("husband", "kids").
- ``when`` is the time of the stated event, resolved against the session date: an ISO date
  (``2023-05-07``), ISO week (``2023-W22``), month (``2023-06``) or year (``2022``). It is
  absent for timeless facts (likes, relations) and for events with no recoverable time.

The predicate vocabulary is ``engram.llm.extraction.PREDICATES`` (re-exported here as
``PREDICATES``); the docstring of ``engram.llm.extraction`` defines each predicate.

Matching (``match``): a predicted triple matches a gold one when subjects are equal
(case-insensitive), predicates are equal and in the vocabulary, and the normalised objects
(lower case, no articles or punctuation) are equal or share tokens with Jaccard similarity at
least ``JACCARD_THRESHOLD``. Pairs are matched one-to-one, greedily by object similarity.

A second labelled sample (``data/facts_locomo_heldout.jsonl``, same format and conventions)
was labelled from turns of sessions the development sample does not use, before the rule
extractor was written; rules are tuned on the development sample only.

Scoring an extractor: ``score_extractor`` runs any ``engram.llm.extraction.Extractor`` over a
sample in one call and scores its claims (``claims_to_triples``); ``throughput`` times one call
over every turn of a LoCoMo file in CPU seconds (``time.process_time``).

Run: ``python -m engram.eval.facts PATH/TO/locomo_dev5.json [--extractor baseline|rules]
[--labels engram/eval/data/facts_locomo_heldout.jsonl]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from engram.eval import locomo
from engram.llm.extraction import PREDICATES, Claim, Utterance
from engram.llm.extraction import Extractor as ClaimExtractor
from engram.llm.rules import RuleExtractor

__all__ = [
    "DEFAULT_HELDOUT",
    "DEFAULT_LABELS",
    "EXTRACTORS",
    "PREDICATES",
    "BaselineExtractor",
    "FactScore",
    "LabelledTurn",
    "PRF",
    "Triple",
    "baseline_extract",
    "claims_to_triples",
    "load_labels",
    "load_sample",
    "match",
    "normalise_object",
    "object_similarity",
    "score",
    "score_extractor",
    "score_pairs",
    "throughput",
]

DEFAULT_LABELS = Path(__file__).parent / "data" / "facts_locomo_dev.jsonl"
DEFAULT_HELDOUT = Path(__file__).parent / "data" / "facts_locomo_heldout.jsonl"
JACCARD_THRESHOLD = 0.5

_WHEN = re.compile(r"\d{4}(-\d{2}(-\d{2})?|-W\d{2})?")
_ARTICLES = frozenset({"a", "an", "the"})
_NON_WORD = re.compile(r"[^\w\s]|_")

Extractor = Callable[[str, str, datetime], Sequence["Triple"]]  # one turn's text, speaker, date -> triples


@dataclass(frozen=True, slots=True)
class Triple:
    """One fact: ``subject predicate object``, optionally dated (see the module docstring)."""

    subject: str
    predicate: str
    object: str
    when: str | None = None


@dataclass(frozen=True, slots=True)
class LabelledTurn:
    """A LoCoMo turn with its text resolved and its gold facts."""

    sample_id: str
    dia_id: str
    speaker: str
    text: str
    said_at: datetime
    facts: tuple[Triple, ...]


@dataclass(slots=True)
class PRF:
    """True positive, false positive and false negative counts, with the derived rates."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(slots=True)
class FactScore:
    """Scores over a sample: overall, per predicate, and ``when`` agreement on matched pairs.

    ``when_agree / matched`` counts matched pairs whose ``when`` values are equal (both absent
    counts as equal); ``dated_agree / dated`` restricts that to gold facts that carry a ``when``.
    """

    overall: PRF = field(default_factory=PRF)
    per_predicate: dict[str, PRF] = field(default_factory=dict)
    matched: int = 0
    when_agree: int = 0
    dated: int = 0
    dated_agree: int = 0
    turns: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "overall": self.overall.as_dict(),
            "when_agreement": round(self.when_agree / self.matched, 4) if self.matched else None,
            "dated_when_agreement": round(self.dated_agree / self.dated, 4) if self.dated else None,
            "per_predicate": {name: prf.as_dict() for name, prf in sorted(self.per_predicate.items())},
        }


# --- loading ---------------------------------------------------------------------------------


def _check_when(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _WHEN.fullmatch(value):
        raise ValueError(f"{where}: 'when' must be an ISO date, week, month or year, got {value!r}")
    if "W" in value:
        year, week = value.split("-W")
        date.fromisocalendar(int(year), int(week), 1)
    elif value.count("-") == 2:
        date.fromisoformat(value)
    elif value.count("-") == 1 and not 1 <= int(value[5:]) <= 12:
        raise ValueError(f"{where}: month out of range in {value!r}")
    return value


def _triple(raw: Any, where: str) -> Triple:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a fact must be an object, got {raw!r}")
    for key in ("subject", "predicate", "object"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ValueError(f"{where}: fact needs a non-empty string {key!r}: {raw!r}")
    if raw["predicate"] not in PREDICATES:
        raise ValueError(f"{where}: unknown predicate {raw['predicate']!r}")
    return Triple(raw["subject"], raw["predicate"], raw["object"], _check_when(raw.get("when"), where))


def load_labels(path: Path = DEFAULT_LABELS) -> list[tuple[str, str, tuple[Triple, ...]]]:
    """Read the gold file: ``(sample_id, dia_id, facts)`` per line, validated."""
    rows: list[tuple[str, str, tuple[Triple, ...]]] = []
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        raw = json.loads(line)
        key = (raw["sample_id"], raw["dia_id"])
        if key in seen:
            raise ValueError(f"{where}: duplicate turn {key}")
        seen.add(key)
        rows.append((*key, tuple(_triple(fact, where) for fact in raw["facts"])))
    return rows


def _locomo_turns(path: Path) -> dict[tuple[str, str], tuple[str, str, datetime]]:
    """``(sample_id, dia_id) -> (speaker, text, session start)`` for every turn of the file."""
    return {
        (conv.sample_id, turn.dia_id): (turn.speaker, turn.text, session.started_at)
        for conv in locomo.load(Path(path))
        for session in conv.sessions
        for turn in session.turns
    }


def load_sample(locomo_path: Path, labels_path: Path = DEFAULT_LABELS) -> list[LabelledTurn]:
    """Join the gold labels with the turn texts of the LoCoMo file at ``locomo_path``."""
    turns = _locomo_turns(locomo_path)
    sample: list[LabelledTurn] = []
    for sample_id, dia_id, facts in load_labels(labels_path):
        try:
            speaker, text, said_at = turns[sample_id, dia_id]
        except KeyError:
            raise ValueError(f"turn {sample_id} {dia_id} of {labels_path} is not in {locomo_path}") from None
        sample.append(LabelledTurn(sample_id, dia_id, speaker, text, said_at, facts))
    return sample


# --- matching and scoring --------------------------------------------------------------------


def normalise_object(text: str) -> str:
    """Lower-case, drop punctuation and articles, collapse spaces."""
    words = _NON_WORD.sub(" ", text.lower().replace("'s ", " ")).split()
    return " ".join(word for word in words if word not in _ARTICLES)


def object_similarity(predicted: str, gold: str) -> float:
    """1.0 for equal normalised objects, else the Jaccard similarity of their token sets."""
    a, b = normalise_object(predicted), normalise_object(gold)
    if a == b:
        return 1.0
    tokens_a, tokens_b = set(a.split()), set(b.split())
    union = tokens_a | tokens_b
    return len(tokens_a & tokens_b) / len(union) if union else 0.0


def match(
    predicted: Sequence[Triple], gold: Sequence[Triple], *, threshold: float = JACCARD_THRESHOLD
) -> list[tuple[int, int]]:
    """One-to-one greedy matching; returns ``(predicted index, gold index)`` pairs.

    Candidate pairs need equal subjects (case-insensitive), an equal in-vocabulary predicate
    and object similarity >= ``threshold``; they are taken best similarity first, ties in
    input order.
    """
    candidates: list[tuple[float, int, int]] = []
    for i, p in enumerate(predicted):
        predicate = p.predicate.strip().lower()
        if predicate not in PREDICATES:
            continue
        for j, g in enumerate(gold):
            if p.subject.strip().lower() != g.subject.strip().lower() or predicate != g.predicate:
                continue
            similarity = object_similarity(p.object, g.object)
            if similarity >= threshold:
                candidates.append((-similarity, i, j))
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, i, j in sorted(candidates):
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def _bucket(result: FactScore, predicate: str) -> PRF:
    return result.per_predicate.setdefault(predicate, PRF())


def score_pairs(
    pairs: Iterable[tuple[Sequence[Triple], Sequence[Triple]]], *, threshold: float = JACCARD_THRESHOLD
) -> FactScore:
    """Score ``(predicted, gold)`` triple lists, one pair per turn.

    True positives and false negatives are counted under the gold predicate, false positives
    under the predicted one (out-of-vocabulary predicates get their own bucket).
    """
    result = FactScore()
    for predicted, gold in pairs:
        result.turns += 1
        matched = match(predicted, gold, threshold=threshold)
        hit_p = {i for i, _ in matched}
        hit_g = {j for _, j in matched}
        for i, j in matched:
            result.overall.tp += 1
            _bucket(result, gold[j].predicate).tp += 1
            result.matched += 1
            agree = (predicted[i].when or None) == (gold[j].when or None)
            result.when_agree += agree
            if gold[j].when:
                result.dated += 1
                result.dated_agree += agree
        for i, triple in enumerate(predicted):
            if i not in hit_p:
                result.overall.fp += 1
                _bucket(result, triple.predicate.strip().lower()).fp += 1
        for j, triple in enumerate(gold):
            if j not in hit_g:
                result.overall.fn += 1
                _bucket(result, triple.predicate).fn += 1
    return result


def score(sample: Iterable[LabelledTurn], extractor: Extractor, *, threshold: float = JACCARD_THRESHOLD) -> FactScore:
    """Run ``extractor(text, speaker, said_at)`` on every turn and score it against the gold facts."""
    return score_pairs(
        ((list(extractor(turn.text, turn.speaker, turn.said_at)), turn.facts) for turn in sample),
        threshold=threshold,
    )


def claims_to_triples(claims: Iterable[Claim]) -> list[Triple]:
    """The scorer's view of extracted claims: subject, predicate, object and when."""
    return [Triple(claim.subject, claim.predicate, claim.object, claim.when) for claim in claims]


def _utterance(turn: LabelledTurn) -> Utterance:
    return Utterance(f"{turn.sample_id}:{turn.dia_id}", turn.text, turn.speaker, turn.said_at)


def score_extractor(
    sample: Iterable[LabelledTurn], extractor: ClaimExtractor, *, threshold: float = JACCARD_THRESHOLD
) -> FactScore:
    """Run ``extractor`` over the whole sample in one call and score its claims turn by turn."""
    turns = list(sample)
    by_source: dict[str, list[Claim]] = {}
    for claim in extractor.extract([_utterance(turn) for turn in turns]):
        by_source.setdefault(claim.source, []).append(claim)
    return score_pairs(
        ((claims_to_triples(by_source.get(_utterance(turn).key, [])), turn.facts) for turn in turns),
        threshold=threshold,
    )


def throughput(extractor: ClaimExtractor, utterances: Sequence[Utterance]) -> dict[str, Any]:
    """Turns per second of CPU time (``time.process_time``) for one ``extract`` call over ``utterances``."""
    started = time.process_time()
    extractor.extract(utterances)
    seconds = time.process_time() - started
    rate = round(len(utterances) / seconds) if seconds > 0 else None
    return {"turns": len(utterances), "cpu_seconds": round(seconds, 4), "turns_per_cpu_second": rate}


def _all_utterances(locomo_path: Path) -> list[Utterance]:
    return [
        Utterance(f"{sample_id}:{dia_id}", text, speaker, said_at)
        for (sample_id, dia_id), (speaker, text, said_at) in _locomo_turns(locomo_path).items()
    ]


# --- baseline --------------------------------------------------------------------------------

# A handful of first-person patterns; the object group stops at punctuation or a clause word.
_STOP = r"(?=\s*(?:[.,!?;:()\-–—]|$|\band\b|\bbut\b|\bso\b|\bwhich\b|\bthat\b|\byesterday\b|\blast\b|\bnext\b))"
_PHRASE = r"((?:[\w'-]+ ?){1,5}?)"
_DETERMINER = r"(?:a |an |some |the |these |this )?"
_PARTNERS = "husband|wife|partner|boyfriend|girlfriend|fiancé|fiance|fiancée"
_CHILDREN = "son|daughter|kids|children|child|kid"
_RELATIVES = "mom|mum|mother|dad|father|brother|sister|grandma|grandmother|grandpa|grandfather|cousin|aunt|uncle"
_PETS = "dog|cat|puppy|pup|kitten|turtles?|pets?"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("likes", re.compile(r"\bI(?:'m| am) (?:a )?(?:big |huge |total )?fan of " + _PHRASE + _STOP, re.I)),
    ("likes", re.compile(r"\bmy (?:favou?rite|fave)(?: \w+)? is " + _PHRASE + _STOP, re.I)),
    ("likes", re.compile(r"\bI (?:really )?(?:love|like|enjoy|adore) " + _PHRASE + _STOP, re.I)),
    ("is", re.compile(r"\bI(?:'m| am) (?:a|an) " + _PHRASE + _STOP, re.I)),
    ("lives_in", re.compile(r"\bI (?:live|am living|'m living) in ([A-Z][\w ]*?)" + _STOP)),
    ("moved_to", re.compile(r"\bI (?:just )?moved to ([A-Z][\w ]*?)" + _STOP)),
    ("from", re.compile(r"\bI(?:'m| am) from ([A-Z][\w ]*?)" + _STOP)),
    ("works_as", re.compile(r"\bI work as (?:a|an) " + _PHRASE + _STOP, re.I)),
    ("works_at", re.compile(r"\bI work (?:at|for) ([A-Z][\w ]*?)" + _STOP)),
    ("plans", re.compile(r"\bI(?:'m| am) (?:planning|going|hoping) to " + _PHRASE + _STOP, re.I)),
    ("plans", re.compile(r"\bI(?:'m| am)? ?gonna " + _PHRASE + _STOP, re.I)),
    ("visited", re.compile(r"\bI (?:visited|went to) (?:a |an |the )?" + _PHRASE + _STOP, re.I)),
    ("owns", re.compile(r"\bI (?:just )?(?:bought|got) " + _DETERMINER + r"(?:new )?" + _PHRASE + _STOP, re.I)),
)
_RELATION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("partner_of", re.compile(rf"\bmy ({_PARTNERS})\b(?: ((?-i:[A-Z][a-z]+)))?", re.I)),
    ("has_child", re.compile(rf"\bmy ({_CHILDREN})(?:'s)?\b(?: ((?-i:[A-Z][a-z]+)))?", re.I)),
    ("has_relative", re.compile(rf"\bmy ({_RELATIVES})\b(?: ((?-i:[A-Z][a-z]+)))?", re.I)),
    ("has_pet", re.compile(rf"\bmy ({_PETS})\b(?: ((?-i:[A-Z][a-z]+)))?", re.I)),
)
_DATED = frozenset({"visited", "owns", "moved_to", "plans"})


def _when(text: str, said_at: datetime) -> str | None:
    """Resolve the first relative time phrase of ``text`` against ``said_at``."""
    lowered = text.lower()
    day = said_at.date()
    if "yesterday" in lowered or "last night" in lowered:
        return (day - timedelta(days=1)).isoformat()
    if "today" in lowered:
        return day.isoformat()
    for phrase, weeks in (("last week", -1), ("next week", 1), ("this week", 0)):
        if phrase in lowered:
            year, week, _ = (day + timedelta(weeks=weeks)).isocalendar()
            return f"{year}-W{week:02d}"
    for phrase, months in (("last month", -1), ("next month", 1), ("this month", 0)):
        if phrase in lowered:
            index = day.year * 12 + day.month - 1 + months
            return f"{index // 12}-{index % 12 + 1:02d}"
    if "last year" in lowered:
        return str(day.year - 1)
    return None


def baseline_extract(text: str, speaker: str, said_at: datetime) -> list[Triple]:
    """First-person regex patterns: a floor for real extractors, not an extractor to use."""
    when = _when(text, said_at)
    found: list[Triple] = []
    seen: set[tuple[str, str]] = set()

    def add(predicate: str, obj: str) -> None:
        obj = obj.strip(" '")
        if obj and (predicate, obj.lower()) not in seen:
            seen.add((predicate, obj.lower()))
            found.append(Triple(speaker, predicate, obj, when if predicate in _DATED else None))

    for predicate, pattern in _RELATION_PATTERNS:
        for m in pattern.finditer(text):
            add(predicate, m.group(2) or m.group(1).lower())
    taken: list[tuple[int, int]] = []
    for predicate, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(start <= m.start() < end for start, end in taken):
                continue  # "I'm a big fan of X" is not also "is big fan of X"
            taken.append(m.span())
            add(predicate, m.group(1))
    return found


class BaselineExtractor:
    """``baseline_extract`` behind the ``Extractor`` protocol, so it is scored like any extractor."""

    name = "baseline"

    def extract(self, utterances: Sequence[Utterance]) -> list[Claim]:
        return [
            Claim(triple.subject, triple.predicate, triple.object, utterance.key, triple.when)
            for utterance in utterances
            if utterance.speaker
            for triple in baseline_extract(utterance.text, utterance.speaker, utterance.said_at)
        ]


EXTRACTORS: dict[str, Callable[[], ClaimExtractor]] = {"baseline": BaselineExtractor, "rules": RuleExtractor}


def _llm_extractor() -> ClaimExtractor | None:
    """The LLM extractor of ``ENGRAM_LLM_*`` (rules as fallback, counted), or None if unset."""
    from engram.llm.client import LLMConfig
    from engram.llm.extract import with_rules_fallback

    config = LLMConfig.from_env()
    return None if config is None else with_rules_fallback(config)


def benchmark(locomo_path: Path) -> dict[str, Any]:
    """Every extractor on the development and held-out samples, side by side.

    The LLM extractor runs when ``ENGRAM_LLM_URL`` / ``ENGRAM_LLM_MODEL`` are set; its row then
    says how many batches fell back to the rules. Without them the row says it was not run.
    """
    extractors: dict[str, ClaimExtractor | None] = {name: make() for name, make in EXTRACTORS.items()}
    extractors["llm"] = _llm_extractor()
    rows: dict[str, Any] = {}
    for name, extractor in extractors.items():
        if extractor is None:
            rows[name] = {"skipped": "no LLM endpoint configured (set ENGRAM_LLM_URL and ENGRAM_LLM_MODEL)"}
            continue
        rows[name] = {
            split: score_extractor(load_sample(locomo_path, labels), extractor).as_dict()
            for split, labels in (("dev", DEFAULT_LABELS), ("heldout", DEFAULT_HELDOUT))
        }
        report = getattr(extractor, "report", None)
        if callable(report):
            done = report()
            rows[name]["fallback_batches"] = f"{done.via_fallback} of {done.batches}"
        else:
            rows[name]["throughput"] = throughput(extractor, _all_utterances(locomo_path))
    return {"benchmark": "facts", "extractors": rows}


def markdown(results: dict[str, Any]) -> str:
    """P / R / F1 per extractor and sample."""
    lines = ["## fact extraction", "", "| extractor | dev P / R / F1 | held-out P / R / F1 | turns/s (CPU) |"]
    lines.append("|---|---|---|---|")
    for name, row in results["extractors"].items():
        if "skipped" in row:
            lines.append(f"| {name} | {row['skipped']} | | |")
            continue
        cells = [
            " / ".join(f"{row[split]['overall'][m]:.3f}" for m in ("precision", "recall", "f1"))
            for split in ("dev", "heldout")
        ]
        speed = row.get("throughput", {}).get("turns_per_cpu_second", row.get("fallback_batches", ""))
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {speed} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score a fact extractor on a labelled sample of LoCoMo turns.")
    parser.add_argument("locomo", type=Path, help="path to a LoCoMo JSON file (e.g. locomo_dev5.json)")
    parser.add_argument(
        "--labels", type=Path, default=DEFAULT_LABELS, help=f"gold facts JSONL (held-out sample: {DEFAULT_HELDOUT})"
    )
    parser.add_argument(
        "--extractor", choices=sorted(EXTRACTORS), default="rules", help="the extractor to score (default: rules)"
    )
    args = parser.parse_args(argv)
    extractor = EXTRACTORS[args.extractor]()
    result = score_extractor(load_sample(args.locomo, args.labels), extractor)
    report = {"extractor": extractor.name, "labels": str(args.labels), **result.as_dict()}
    report["throughput"] = throughput(extractor, _all_utterances(args.locomo))
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
