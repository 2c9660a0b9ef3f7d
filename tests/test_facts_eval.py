"""The fact-extraction scorer and its labelled LoCoMo sample (texts are never in the repo)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from engram.eval import facts
from engram.eval.facts import PREDICATES, Triple, baseline_extract, match, normalise_object, object_similarity
from engram.llm import extraction
from engram.llm.rules import RuleExtractor

SAID_AT = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)


def test_normalise_object_drops_case_articles_and_punctuation() -> None:
    assert normalise_object("The LGBTQ Support-Group!") == "lgbtq support group"
    assert normalise_object("an  apple") == "apple"


def test_object_similarity_exact_and_jaccard() -> None:
    assert object_similarity("A dance studio", "dance studio") == 1.0
    assert object_similarity("contemporary dance", "dance") == 0.5
    assert object_similarity("pottery", "violin") == 0.0


def test_match_requires_subject_predicate_and_object() -> None:
    gold = [Triple("Caroline", "attended", "LGBTQ support group", "2023-05-07")]
    assert match([Triple("caroline", "attended", "the LGBTQ support group")], gold) == [(0, 0)]
    assert match([Triple("Melanie", "attended", "LGBTQ support group")], gold) == []
    assert match([Triple("Caroline", "visited", "LGBTQ support group")], gold) == []
    assert match([Triple("Caroline", "attended", "pottery class")], gold) == []


def test_match_rejects_predicates_outside_the_vocabulary() -> None:
    gold = [Triple("Jon", "likes", "dancing")]
    assert match([Triple("Jon", "loves", "dancing")], gold) == []
    assert "loves" not in PREDICATES


def test_match_is_one_to_one_and_prefers_the_best_object() -> None:
    gold = [Triple("Nate", "likes", "action movies"), Triple("Nate", "likes", "sci-fi movies")]
    predicted = [Triple("Nate", "likes", "movies"), Triple("Nate", "likes", "sci-fi movies")]
    # "movies" overlaps both gold objects at 0.5; the exact "sci-fi movies" takes its own gold first.
    assert match(predicted, gold) == [(0, 0), (1, 1)]
    duplicate = [Triple("Nate", "likes", "action movies")] * 2
    assert match(duplicate, gold) == [(0, 0)]


def test_score_pairs_counts_and_when_agreement() -> None:
    gold_a = [Triple("Jon", "likes", "dancing"), Triple("Jon", "did", "lost job as banker", "2023-01-19")]
    predicted_a = [
        Triple("Jon", "likes", "dancing"),
        Triple("Jon", "did", "lost his job as a banker", "2023-01-20"),
        Triple("Jon", "owns", "car"),
    ]
    gold_b: list[Triple] = []
    predicted_b = [Triple("Gina", "likes", "hello")]
    result = facts.score_pairs(
        [(predicted_a, gold_a), (predicted_b, gold_b), ([], [Triple("Gina", "visited", "Rome")])]
    )
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (2, 2, 1)
    assert result.overall.precision == pytest.approx(0.5)
    assert result.overall.recall == pytest.approx(2 / 3)
    assert result.overall.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert result.per_predicate["likes"].tp == 1 and result.per_predicate["likes"].fp == 1
    assert result.per_predicate["owns"].fp == 1
    assert result.per_predicate["visited"].fn == 1
    assert (result.matched, result.when_agree, result.dated, result.dated_agree) == (2, 1, 1, 0)
    report = result.as_dict()
    assert report["turns"] == 3 and report["when_agreement"] == 0.5 and report["dated_when_agreement"] == 0.0


def test_empty_scores_are_zero_not_errors() -> None:
    result = facts.score_pairs([([], [])])
    assert result.overall.precision == result.overall.recall == result.overall.f1 == 0.0
    assert result.as_dict()["when_agreement"] is None


def test_baseline_extracts_first_person_facts() -> None:
    found = baseline_extract("I went to a LGBTQ support group yesterday and my husband came.", "Caroline", SAID_AT)
    assert Triple("Caroline", "visited", "LGBTQ support group", "2023-05-07") in found
    assert Triple("Caroline", "partner_of", "husband") in found
    assert baseline_extract("How have you been?", "Caroline", SAID_AT) == []
    assert Triple("John", "has_child", "Sara") in baseline_extract("It was my daughter Sara's party.", "John", SAID_AT)


# --- the labelled sample ----------------------------------------------------------------------


def _is_iso_when(value: str) -> bool:
    if "-W" in value:
        year, week = value.split("-W")
        return len(week) == 2 and date.fromisocalendar(int(year), int(week), 1).year >= 1900
    parts = value.split("-")
    if len(parts) == 3:
        return date.fromisoformat(value).year >= 1900
    if len(parts) == 2:
        return len(parts[0]) == 4 and len(parts[1]) == 2 and 1 <= int(parts[1]) <= 12
    return len(value) == 4 and value.isdigit()


def test_the_vocabulary_is_the_extractors_own() -> None:
    assert facts.PREDICATES is extraction.PREDICATES


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_labelled_sample_is_well_formed() -> None:
    lines = _lines(facts.DEFAULT_LABELS)
    assert len(lines) >= 120
    assert sum(1 for line in lines if not line["facts"]) >= 15
    _check_labels(facts.DEFAULT_LABELS)


def test_heldout_sample_is_well_formed_and_disjoint_from_the_development_one() -> None:
    lines = _lines(facts.DEFAULT_HELDOUT)
    assert len(lines) >= 60
    assert sum(1 for line in lines if line["facts"]) >= 45
    assert sum(1 for line in lines if not line["facts"]) >= 15
    _check_labels(facts.DEFAULT_HELDOUT)
    dev = {(line["sample_id"], line["dia_id"]) for line in _lines(facts.DEFAULT_LABELS)}
    assert not dev & {(line["sample_id"], line["dia_id"]) for line in lines}


def _check_labels(path: Path) -> None:
    lines = _lines(path)
    keys = [(line["sample_id"], line["dia_id"]) for line in lines]
    assert len(set(keys)) == len(keys)
    assert {sample_id for sample_id, _ in keys} >= {"conv-26", "conv-30", "conv-41", "conv-42", "conv-43"}
    for line in lines:
        assert set(line) == {"sample_id", "dia_id", "facts"}, "labels reference turns; they hold no text"
        for fact in line["facts"]:
            assert set(fact) <= {"subject", "predicate", "object", "when"}
            assert fact["predicate"] in PREDICATES
            assert fact["subject"] and fact["object"]
            if "when" in fact:
                assert _is_iso_when(fact["when"]), fact
    assert len(facts.load_labels(path)) == len(lines)  # the loader's own validation agrees


def test_load_labels_rejects_unknown_predicates_and_bad_dates(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps(
            {"sample_id": "c", "dia_id": "D1:1", "facts": [{"subject": "A", "predicate": "loves", "object": "x"}]}
        )
    )
    with pytest.raises(ValueError, match="unknown predicate"):
        facts.load_labels(bad)
    fact = {"subject": "A", "predicate": "did", "object": "x", "when": "May 2023"}
    bad.write_text(json.dumps({"sample_id": "c", "dia_id": "D1:1", "facts": [fact]}))
    with pytest.raises(ValueError, match="'when'"):
        facts.load_labels(bad)


# --- end to end on a synthetic LoCoMo-shaped file ---------------------------------------------


def _write_locomo(path: Path) -> None:
    turns = [
        {"speaker": "Caroline", "dia_id": "D1:1", "text": "Hey Mel! How have you been?"},
        {"speaker": "Melanie", "dia_id": "D1:2", "text": "Great! I went to the beach yesterday with my husband."},
        {"speaker": "Caroline", "dia_id": "D1:3", "text": "I'm a big fan of pottery. I'm planning to adopt kids."},
    ]
    conversation = {
        "speaker_a": "Caroline",
        "speaker_b": "Melanie",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": turns,
    }
    path.write_text(json.dumps([{"sample_id": "conv-x", "conversation": conversation, "qa": []}]))


_GOLD = [
    {"sample_id": "conv-x", "dia_id": "D1:1", "facts": []},
    {
        "sample_id": "conv-x",
        "dia_id": "D1:2",
        "facts": [
            {"subject": "Melanie", "predicate": "visited", "object": "beach", "when": "2023-05-07"},
            {"subject": "Melanie", "predicate": "partner_of", "object": "husband"},
        ],
    },
    {
        "sample_id": "conv-x",
        "dia_id": "D1:3",
        "facts": [
            {"subject": "Caroline", "predicate": "likes", "object": "pottery"},
            {"subject": "Caroline", "predicate": "plans", "object": "adopt children"},
        ],
    },
]


def test_score_baseline_end_to_end(tmp_path: Path) -> None:
    locomo = tmp_path / "locomo.json"
    _write_locomo(locomo)
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(row) + "\n" for row in _GOLD))

    sample = facts.load_sample(locomo, labels)
    assert [turn.speaker for turn in sample] == ["Caroline", "Melanie", "Caroline"]
    assert sample[1].said_at == datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)

    result = facts.score(sample, baseline_extract)
    # "adopt kids" vs "adopt children" shares one token of three: Jaccard 1/3, below the threshold.
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (3, 1, 1)
    assert result.dated == result.dated_agree == 1

    perfect = {(t.speaker, t.text): list(t.facts) for t in sample}
    assert facts.score(sample, lambda text, speaker, _at: perfect[speaker, text]).overall.f1 == 1.0


def test_load_sample_reports_missing_turns(tmp_path: Path) -> None:
    locomo = tmp_path / "locomo.json"
    _write_locomo(locomo)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"sample_id": "conv-x", "dia_id": "D9:9", "facts": []}) + "\n")
    with pytest.raises(ValueError, match="D9:9"):
        facts.load_sample(locomo, labels)


def test_main_prints_a_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locomo = tmp_path / "locomo.json"
    _write_locomo(locomo)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"sample_id": "conv-x", "dia_id": "D1:1", "facts": []}) + "\n")
    assert facts.main([str(locomo), "--labels", str(labels)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["turns"] == 1 and report["extractor"] == "rules"
    assert report["throughput"]["turns"] == 3  # every turn of the file, not only the labelled ones
    assert set(report["throughput"]) == {"turns", "cpu_seconds", "turns_per_cpu_second"}


def test_main_scores_the_chosen_extractor_per_predicate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locomo, labels = tmp_path / "locomo.json", tmp_path / "labels.jsonl"
    _write_locomo(locomo)
    labels.write_text(json.dumps(_GOLD[1]) + "\n")
    assert facts.main([str(locomo), "--labels", str(labels), "--extractor", "baseline"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["extractor"] == "baseline"
    assert report["per_predicate"]["visited"]["tp"] == 1 and report["per_predicate"]["partner_of"]["tp"] == 1
    with pytest.raises(SystemExit):
        facts.main([str(locomo), "--extractor", "nonesuch"])


def test_score_extractor_scores_claims_like_triples(tmp_path: Path) -> None:
    locomo, labels = tmp_path / "locomo.json", tmp_path / "labels.jsonl"
    _write_locomo(locomo)
    labels.write_text("".join(json.dumps(row) + "\n" for row in _GOLD))
    sample = facts.load_sample(locomo, labels)
    as_claims = facts.score_extractor(sample, facts.BaselineExtractor()).as_dict()
    assert as_claims == facts.score(sample, baseline_extract).as_dict()
    rules = facts.score_extractor(sample, RuleExtractor())
    assert rules.overall.tp >= 3 and rules.turns == 3


def test_claims_to_triples_keeps_subject_predicate_object_and_when() -> None:
    claim = extraction.Claim("Ana", "visited", "Oslo", "e1", "2023-05-07", "place", 0.7)
    assert facts.claims_to_triples([claim]) == [Triple("Ana", "visited", "Oslo", "2023-05-07")]


def test_throughput_counts_turns_per_cpu_second() -> None:
    utterances = [extraction.Utterance(str(i), "I love tea.", "Ana", SAID_AT) for i in range(50)]
    report = facts.throughput(RuleExtractor(), utterances)
    assert report["turns"] == 50 and report["cpu_seconds"] >= 0
