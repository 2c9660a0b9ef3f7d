"""The benchmark harness: metrics, loaders, baselines and report, on tiny hand-made fixtures."""

from __future__ import annotations

import json
import lzma
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engram.errors import InvalidInput
from engram.eval import locomo, longmemeval, metrics, report
from engram.eval.baselines import BM25Ranker, DenseRanker
from engram.perception.embedders import HashEmbedder

# --- metrics -------------------------------------------------------------------------------


def test_evidence_recall_is_the_fraction_of_evidence_in_the_top_k() -> None:
    ranking = ["D1:1", "D1:2", "D2:5", "D3:1"]
    assert metrics.evidence_recall(["D1:2", "D3:1"], ranking, 2) == 0.5
    assert metrics.evidence_recall(["D1:2", "D3:1"], ranking, 4) == 1.0
    assert metrics.evidence_recall(["D9:9"], ranking, 4) == 0.0


def test_evidence_recall_of_empty_evidence_is_one_as_upstream() -> None:
    assert metrics.evidence_recall([], ["D1:1"], 5) == 1.0


def test_k_below_one_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        metrics.recall_any({"a"}, ["a"], 0)


def test_recall_any_and_all() -> None:
    ranking = ["s1", "s2", "s3"]
    assert metrics.recall_any({"s2", "s9"}, ranking, 2) == 1.0
    assert metrics.recall_all({"s2", "s9"}, ranking, 3) == 0.0
    assert metrics.recall_all({"s1", "s3"}, ranking, 3) == 1.0
    assert metrics.recall_all({"s1", "s3"}, ranking, 2) == 0.0


def test_dcg_leaves_ranks_one_and_two_undiscounted_like_upstream() -> None:
    assert metrics.dcg([1, 0, 0], 3) == metrics.dcg([0, 1, 0], 3) == 1.0
    assert metrics.dcg([0, 0, 1], 3) == pytest.approx(1 / math.log2(3))
    assert metrics.dcg([], 3) == 0.0


def test_ndcg_is_one_for_an_ideal_ranking_and_zero_without_relevant_items() -> None:
    assert metrics.ndcg({"a", "b"}, ["a", "b", "c"], 3, n_relevant=2) == 1.0
    assert metrics.ndcg({"a"}, ["c", "d"], 2, n_relevant=0) == 0.0
    partial = metrics.ndcg({"a", "b"}, ["c", "d", "a"], 3, n_relevant=2)
    assert partial == pytest.approx((1 / math.log2(3)) / 2.0)


def _upstream_widened_k(ranking: list[str], k: int) -> int:
    """The loop of upstream ``evaluate_retrieval_turn2session``, transcribed as the slow path."""
    effective = k
    unique = set(ranking[:effective])
    while effective <= len(ranking) and len(unique) < k:
        effective += 1
        unique = set(ranking[:effective])
    return effective


@given(st.lists(st.sampled_from("abcdefgh"), max_size=40), st.integers(min_value=1, max_value=10))
def test_widened_k_matches_the_upstream_loop(ranking: list[str], k: int) -> None:
    assert metrics.widened_k(ranking, k) == _upstream_widened_k(ranking, k)


def test_turn2session_widens_until_k_distinct_sessions() -> None:
    # Turns of s1 crowd the top; k=2 sessions needs the first 4 turns, which reach gold s2.
    ranking = ["s1", "s1", "s1", "s2", "s3"]
    scores = metrics.turn2session_scores({"s2"}, ranking, 2, n_relevant=1)
    assert scores["recall_all"] == 1.0
    assert metrics.session_scores({"s2"}, ranking, 2, n_relevant=1)["recall_all"] == 0.0


def test_average_means_each_key_over_the_rows_that_have_it() -> None:
    assert metrics.average([{"a": 1.0, "b": 0.0}, {"a": 0.0}]) == {"a": 0.5, "b": 0.0}
    assert metrics.average([]) == {}


# --- LoCoMo ----------------------------------------------------------------------------------


def _locomo_fixture() -> list[dict[str, Any]]:
    conversation = {
        "speaker_a": "Anna",
        "speaker_b": "Ben",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Anna", "dia_id": "D1:1", "text": "I adopted a puppy named Rex."},
            {"speaker": "Ben", "dia_id": "D1:2", "text": "Look at my garden!", "blip_caption": "a photo of roses"},
        ],
        "session_2_date_time": "10:05 am on 20 June, 2023",
        "session_2": [{"speaker": "Anna", "dia_id": "D2:1", "text": "Rex learned to sit."}],
        "session_3_date_time": "9:00 am on 1 July, 2023",  # a date with no session, as in the data
    }
    qa = [
        {"question": "What is the puppy called?", "answer": "Rex", "evidence": ["D1:1"], "category": 4},
        {"question": "What did Rex learn?", "answer": "to sit", "evidence": ["D1:01; D2:1"], "category": 1},
        {"question": "Did Ben adopt a cat?", "adversarial_answer": "yes", "evidence": ["D1:2"], "category": 5},
        {"question": "Unanswerable", "answer": "x", "evidence": ["D7:7", "D"], "category": 3},
    ]
    return [{"sample_id": "conv-1", "conversation": conversation, "qa": qa}]


@pytest.fixture
def locomo_file(tmp_path: Path) -> Path:
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps(_locomo_fixture()), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["D8:6; D9:17"], ("D8:6", "D9:17")),
        (["D9:1 D4:4 D4:6"], ("D9:1", "D4:4", "D4:6")),
        (["D:11:26"], ("D11:26",)),
        (["D30:05"], ("D30:5",)),
        (["D", "D10:19"], ()),
        (["D1:1", "D1:01"], ("D1:1",)),
    ],
)
def test_normalise_evidence_repairs_the_malformed_ids_the_readme_lists(
    raw: list[str], expected: tuple[str, ...]
) -> None:
    known = {"D8:6", "D9:17", "D9:1", "D4:4", "D4:6", "D11:26", "D30:5", "D1:1"}
    assert locomo.normalise_evidence(raw, known) == expected


def test_locomo_load_reads_sessions_dates_and_normalised_evidence(locomo_file: Path) -> None:
    (conv,) = locomo.load(locomo_file)
    assert conv.sample_id == "conv-1"
    assert [s.number for s in conv.sessions] == [1, 2]
    assert conv.sessions[0].started_at == datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
    assert conv.last_session_at == datetime(2023, 6, 20, 10, 5, tzinfo=timezone.utc)
    assert [qa.evidence for qa in conv.qa] == [("D1:1",), ("D1:1", "D2:1"), ("D1:2",), ()]
    assert conv.qa[2].answer is None


def test_locomo_events_of_keeps_text_speaker_session_and_ids(locomo_file: Path) -> None:
    (conv,) = locomo.load(locomo_file)
    events = locomo.events_of(conv)
    assert [e["metadata"]["dia_id"] for e in events] == ["D1:1", "D1:2", "D2:1"]
    assert events[1]["text"] == "Look at my garden!"
    assert events[1]["metadata"]["image_caption"] == "a photo of roses"
    assert events[2]["session"] == "session_2" and events[2]["speaker"] == "Anna"
    assert events[2]["occurred_at"].tzinfo is timezone.utc
    assert locomo.baseline_text(events[0]) == "Anna: I adopted a puppy named Rex."


# --- LongMemEval -------------------------------------------------------------------------------


def _lme_question(question_id: str = "q1") -> dict[str, Any]:
    sessions = [
        [
            {"role": "user", "content": "I bought a red bike yesterday.", "has_answer": True},
            {"role": "assistant", "content": "Nice bike!", "has_answer": False},
            {"role": "user", "content": "   ", "has_answer": False},
        ],
        [{"role": "user", "content": "Tell me about Rome."}, {"role": "assistant", "content": "Rome is old."}],
        [{"role": "user", "content": "I like tea.", "has_answer": False}],
    ]
    return {
        "question_id": question_id,
        "question_type": "single-session-user",
        "question": "What colour is my bike?",
        "answer": 7 if question_id.endswith("_abs") else "red",
        "question_date": "2023/05/30 (Tue) 10:00",
        "haystack_session_ids": ["answer_1", "sharegpt_2", "answer_3"],
        "haystack_dates": ["2023/05/20 (Sat) 09:00", "2023/05/21 (Sun) 09:00", "2023/05/30 (Tue) 23:40"],
        "haystack_sessions": sessions,
        "answer_session_ids": ["answer_1", "answer_3"],
    }


@pytest.fixture
def lme_file(tmp_path: Path) -> Path:
    path = tmp_path / "lme.json.xz"
    with lzma.open(path, "wt", encoding="utf-8") as handle:
        json.dump([_lme_question("q1"), _lme_question("q2_abs")], handle)
    return path


def test_longmemeval_load_reads_xz_and_applies_the_noans_rule(lme_file: Path) -> None:
    q1, q2 = longmemeval.load(lme_file)
    assert q1.gold_sessions == {"answer_1"}  # answer_3 has no has_answer user turn
    assert longmemeval.scorable(q1) and not longmemeval.scorable(q2)
    assert q2.is_abstention and q2.answer == "7"
    assert q1.question_date == datetime(2023, 5, 30, 10, 0, tzinfo=timezone.utc)
    assert q1.asked_at == datetime(2023, 5, 30, 23, 40, tzinfo=timezone.utc)  # a session later that day


def test_longmemeval_events_of_is_user_turns_with_upstream_turn_numbers(lme_file: Path) -> None:
    question = longmemeval.load(lme_file)[0]
    events = longmemeval.events_of(question)
    assert [(e["session"], e["metadata"]["turn"]) for e in events] == [
        ("answer_1", 1),
        ("sharegpt_2", 1),
        ("answer_3", 1),
    ]
    assert events[0]["metadata"] == {"session_id": "answer_1", "turn": 1, "role": "user", "has_answer": True}
    with_assistant = longmemeval.events_of(question, include_assistant=True)
    assert [e["metadata"]["turn"] for e in with_assistant if e["session"] == "answer_1"] == [1, 2]
    assert longmemeval.session_text(question.sessions[0]) == "I bought a red bike yesterday.    "


def test_longmemeval_parse_date_rejects_other_formats() -> None:
    with pytest.raises(ValueError):
        longmemeval.parse_date("30 May 2023")


# --- baselines -------------------------------------------------------------------------------


def test_bm25_ranks_the_matching_document_first_and_stems() -> None:
    ranker = BM25Ranker(["the weather is cold", "she runs every morning", "cats sleep a lot"])
    assert ranker.rank("who was running?", 2)[0] == 1
    assert len(ranker.rank("cats", 10)) == 3


def test_dense_ranks_the_identical_text_first() -> None:
    ranker = DenseRanker(["red bike", "blue ocean waves", "tea time"], HashEmbedder(dim=64))
    assert ranker.rank("blue ocean waves", 3)[0] == 1


def test_a_baseline_needs_documents() -> None:
    with pytest.raises(InvalidInput):
        BM25Ranker([])


# --- report and runners ----------------------------------------------------------------------


def test_ratios_are_engram_over_baseline_and_none_for_a_zero_baseline() -> None:
    assert report.ratios({"r@5": 0.5, "r@10": 0.6, "x": 1.0}, {"r@5": 0.25, "r@10": 0.0}) == {"r@5": 2.0, "r@10": None}


def test_report_write_emits_json_and_a_markdown_table(tmp_path: Path) -> None:
    entry = {"overall": {"recall@10": 0.6}, "groups": {"single-hop": {"recall@10": 0.7}}}
    base = {"overall": {"recall@10": 0.5}, "groups": {"single-hop": {"recall@10": 0.4}}}
    res = report.results(
        benchmark="demo",
        engram=entry,
        baselines={"bm25": base},
        n_questions=3,
        seconds=1.5,
        embedder="hash-64",
        headline="recall@10",
    )
    text = report.write(res, tmp_path)
    assert json.loads((tmp_path / "demo.json").read_text())["ratios"] == {"bm25": {"recall@10": 1.2}}
    assert (tmp_path / "demo.md").read_text() == text
    assert "| recall@10 | 0.600 | 0.500 | 1.200 |" in text
    assert "| single-hop | 0.700 | 0.400 |" in text


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENGRAM_CACHE", str(tmp_path / "cache"))


@pytest.mark.usefixtures("private_cache")
def test_locomo_run_end_to_end(locomo_file: Path, tmp_path: Path) -> None:
    res = locomo.run(locomo_file, embedder=HashEmbedder(dim=64), workdir=tmp_path / "work", progress=False)
    assert res["benchmark"] == "locomo" and res["n_questions"] == 2 and res["embedder"] == "hash-64"
    # three turns only: every evidence turn is within the top 5 for every system
    assert res["engram"]["overall"]["recall@5"] == 1.0
    assert res["baselines"]["bm25"]["overall"]["recall@5"] == 1.0
    assert res["engram"]["adversarial"]["recall@5"] == 1.0
    assert 0.0 <= res["engram"]["overall"]["context_recall@1000tok"] <= 1.0
    assert set(res["ratios"]) == {"bm25", "dense"}


@pytest.mark.usefixtures("private_cache")
def test_longmemeval_run_end_to_end(lme_file: Path, tmp_path: Path) -> None:
    res = longmemeval.run(lme_file, embedder=HashEmbedder(dim=64), workdir=tmp_path / "work", progress=False)
    assert res["n_questions"] == 1 and res["skipped"] == {"abstention": 1, "no_gold_session": 0}
    assert set(res["baselines"]) == {"engram_turns", "bm25", "bm25_sessions", "dense"}
    assert res["baselines"]["engram_turns"]["overall"]["recall_all@5"] == 1.0
    assert res["engram"]["overall"]["recall_all@5"] == 1.0  # three sessions, all within 5
    assert res["engram"]["groups"]["single-session-user"]["recall_any@5"] == 1.0


def _ku_question(qtype: str = "knowledge-update") -> longmemeval.Question:
    def session(sid: str, day: int, answer: bool) -> longmemeval.HaystackSession:
        turn = longmemeval.Turn("user", f"text {sid}", answer)
        return longmemeval.HaystackSession(sid, datetime(2023, 5, day, tzinfo=timezone.utc), (turn,))

    sessions = (session("old", 1, True), session("filler", 2, False), session("new", 3, True))
    when = datetime(2023, 6, 1, tzinfo=timezone.utc)
    return longmemeval.Question("q", qtype, "where now?", "x", when, sessions, ("old", "new"))


def test_current_first_asks_whether_the_latest_gold_session_leads() -> None:
    question = _ku_question()
    assert longmemeval.current_first(question, ["new", "filler", "old"]) == {"current_first": 1.0}
    assert longmemeval.current_first(question, ["old", "new"]) == {"current_first": 0.0}
    assert longmemeval.current_first(question, ["new"]) == {"current_first": 1.0}  # the old one unranked
    assert longmemeval.current_first(question, ["old"]) == {"current_first": 0.0}
    assert longmemeval.current_first(_ku_question("multi-session"), ["new"]) == {}


@pytest.mark.usefixtures("private_cache")
def test_longmemeval_run_scores_only_the_named_types(lme_file: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    res = longmemeval.run(
        lme_file, embedder=HashEmbedder(dim=64), workdir=work, types=["single-session-user"], progress=False
    )
    assert res["n_questions"] == 1 and res["types"] == ["single-session-user"]
    with pytest.raises(InvalidInput, match="multi-session"):
        longmemeval.run(lme_file, embedder=HashEmbedder(dim=64), workdir=work, types=["multi-session"], progress=False)
