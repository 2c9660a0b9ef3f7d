"""The ``engram`` command, run in-process through ``main([...])`` and once as a real process.

Every test uses the hash embedder (``ENGRAM_EMBEDDER=hash``) so no model is loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engram.interfaces.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]

TURNS = [
    {
        "text": "I moved to Lisbon in May.",
        "speaker": "alice",
        "session": "s1",
        "occurred_at": "2024-05-03T10:00:00+00:00",
    },
    {
        "text": "My dog Pico loves sardines.",
        "speaker": "alice",
        "session": "s1",
        "occurred_at": "2024-05-03T10:01:00Z",
        "metadata": {"source": "chat"},
    },
    {"text": "Bob started a job at a solar company.", "speaker": "bob", "session": "s2"},
]

LOCOMO = [
    {
        "sample_id": "conv-t1",
        "conversation": {
            "speaker_a": "Ann",
            "speaker_b": "Bo",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a cat named Tofu last week."},
                {"speaker": "Bo", "dia_id": "D1:2", "text": "Lovely! I am training for the Berlin marathon."},
            ],
            "session_2_date_time": "7:10 pm on 2 June, 2023",
            "session_2": [{"speaker": "Ann", "dia_id": "D2:1", "text": "Tofu knocked my plants over again."}],
        },
        "qa": [{"question": "What is the name of Ann's cat?", "answer": "Tofu", "evidence": ["D1:1"], "category": 4}],
    }
]


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ENGRAM_EMBEDDER", "hash")
    monkeypatch.setenv("ENGRAM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ENGRAM_HOME", raising=False)
    for name in ("ENGRAM_LOCOMO", "ENGRAM_LONGMEMEVAL", "ENGRAM_LLM_URL", "ENGRAM_LLM_MODEL", "ENGRAM_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def home(tmp_path: Path) -> str:
    return str(tmp_path / "mem")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def stats(capsys: pytest.CaptureFixture[str], home: str) -> dict:
    code, out, _ = run(capsys, "--home", home, "stats")
    assert code == 0
    return json.loads(out)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand the parser knows, found by walking it."""
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += command_paths(sub, (*prefix, name))
    return paths


@pytest.mark.parametrize("path", command_paths(build_parser()), ids=lambda p: " ".join(p) or "engram")
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], path: tuple[str, ...]) -> None:
    code, out, _ = run(capsys, *path, "--help")
    assert code == 0
    assert out.startswith("usage: engram")
    assert len(out.splitlines()) > 3


def test_remember_then_recall_round_trip(capsys: pytest.CaptureFixture[str], home: str) -> None:
    code, out, err = run(
        capsys,
        "--home",
        home,
        "remember",
        "I moved to Lisbon in May.",
        "-n",
        "alice",
        "--speaker",
        "alice",
        "--session",
        "s1",
        "--at",
        "2024-05-03T10:00:00+00:00",
        "--meta",
        "source=chat",
    )
    assert (code, err) == (0, "")
    event_id = out.strip()
    code, out, _ = run(capsys, "--home", home, "recall", "where does alice live? Lisbon", "-n", "alice", "--json")
    assert code == 0
    [hit] = json.loads(out)
    assert hit["id"] == event_id
    assert hit["text"] == "I moved to Lisbon in May."
    assert (hit["speaker"], hit["session"], hit["metadata"]) == ("alice", "s1", {"source": "chat"})
    assert hit["occurred_at"] == "2024-05-03T10:00:00+00:00"
    assert hit["why"].startswith("score")
    code, out, _ = run(capsys, "--home", home, "recall", "Lisbon", "-n", "alice")
    assert code == 0 and "I moved to Lisbon in May." in out and "score" in out


def test_global_options_after_the_command_and_from_the_environment(
    capsys: pytest.CaptureFixture[str], home: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "remember", "note one", "--home", home, "--embedder", "hash")[0] == 0
    monkeypatch.setenv("ENGRAM_HOME", home)
    assert run(capsys, "remember", "note two")[0] == 0
    assert stats(capsys, home)["namespaces"] == {"default": 2}


def test_context_prints_a_block(capsys: pytest.CaptureFixture[str], home: str) -> None:
    run(capsys, "--home", home, "remember", "My dog Pico loves sardines.")
    code, out, _ = run(capsys, "--home", home, "context", "dog", "--budget-tokens", "100")
    assert code == 0 and "Pico" in out


def test_import_jsonl_then_stats(capsys: pytest.CaptureFixture[str], home: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "turns.jsonl", [TURNS[0], "", TURNS[1], TURNS[2]])
    code, out, _ = run(capsys, "--home", home, "import", str(path), "-n", "alice")
    assert code == 0 and "imported 3 events" in out
    numbers = stats(capsys, home)
    assert numbers["events"] == 3 and numbers["namespaces"] == {"alice": 3}
    assert numbers["embedder"] == "hash-64" and numbers["bytes"] > 0
    code, out, _ = run(capsys, "--home", home, "recall", "sardines", "-n", "alice", "--json", "-k", "1")
    assert json.loads(out)[0]["metadata"] == {"source": "chat"}


def test_stats_for_one_namespace(capsys: pytest.CaptureFixture[str], home: str) -> None:
    run(capsys, "--home", home, "remember", "a", "-n", "one")
    run(capsys, "--home", home, "remember", "b", "-n", "two")
    code, out, _ = run(capsys, "--home", home, "stats", "-n", "two")
    assert code == 0 and json.loads(out)["namespaces"] == {"two": 1}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "turns.jsonl:3: not JSON"),
        (json.dumps({"text": ""}), "turns.jsonl:3: text is empty"),
        (
            json.dumps({"text": "x", "occurred_at": "yesterday"}),
            "turns.jsonl:3: occurred_at 'yesterday' is not an ISO-8601",
        ),
        (
            json.dumps({"text": "x", "occurred_at": "2024-05-03T10:00:00"}),
            "turns.jsonl:3: occurred_at is a naive datetime",
        ),
        (json.dumps({"text": "x", "colour": "red"}), "turns.jsonl:3: unknown field(s) colour"),
        (json.dumps({"text": "x", "metadata": [1]}), "turns.jsonl:3: metadata must be a mapping"),
        ("[1, 2]", "turns.jsonl:3: expected a JSON object"),
    ],
)
def test_bad_jsonl_exits_2_and_stores_nothing(
    capsys: pytest.CaptureFixture[str], home: str, tmp_path: Path, line: str, message: str
) -> None:
    path = write_jsonl(tmp_path / "turns.jsonl", [TURNS[0], TURNS[1], line])
    code, out, err = run(capsys, "--home", home, "import", str(path))
    assert code == 2 and out == ""
    assert err.startswith("engram: error: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert stats(capsys, home)["events"] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["remember", ""], "text is empty"),
        (["remember", "x", "--at", "2024-05-03"], "naive datetime"),
        (["remember", "x", "--at", "soon"], "not an ISO-8601"),
        (["remember", "x", "--meta", "novalue"], "expected KEY=VALUE"),
        (["remember", "x", "-n", "bad namespace!"], "namespace"),
        (["recall", "x", "-k", "0"], "k must be"),
        (["import", "no-such-file.jsonl"], "no such file"),
        (["bench", "locomo"], "ENGRAM_LOCOMO"),
        (["bench", "speed", "--sizes", "ten"], "--sizes"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], home: str, argv: list, message: str
) -> None:
    code, out, err = run(capsys, "--home", home, *argv)
    assert code == 2 and out == ""
    assert err.startswith("engram: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_bad_input_stores_nothing(capsys: pytest.CaptureFixture[str], home: str) -> None:
    assert run(capsys, "--home", home, "remember", "x", "--at", "never")[0] == 2
    assert stats(capsys, home)["events"] == 0


def test_unknown_embedder_in_the_environment(
    capsys: pytest.CaptureFixture[str], home: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGRAM_EMBEDDER", "word2vec")
    code, _, err = run(capsys, "--home", home, "stats")
    assert code == 2 and "unknown embedder 'word2vec'" in err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "recall")
    assert code == 2 and "usage: engram recall" in err


def test_import_locomo_one_namespace_per_conversation(
    capsys: pytest.CaptureFixture[str], home: str, tmp_path: Path
) -> None:
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps(LOCOMO), encoding="utf-8")
    code, out, _ = run(capsys, "--home", home, "import", str(path), "--format", "locomo")
    assert code == 0 and "imported 3 events into 'conv-t1'" in out
    assert stats(capsys, home)["namespaces"] == {"conv-t1": 3}


def test_bench_locomo_writes_reports(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps(LOCOMO), encoding="utf-8")
    monkeypatch.setenv("ENGRAM_LOCOMO", str(path))
    out_dir = tmp_path / "results"
    code, out, _ = run(capsys, "bench", "locomo", "--out", str(out_dir), "--quiet")
    assert code == 0 and "locomo" in out
    assert json.loads((out_dir / "locomo.json").read_text())["benchmark"] == "locomo"


def test_bench_speed_writes_reports(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "results"
    code, out, _ = run(capsys, "bench", "speed", "--sizes", "300,600", "--queries", "12", "--out", str(out_dir), "-q")
    assert code == 0 and "| 600 |" in out
    results = json.loads((out_dir / "speed.json").read_text())
    assert [row["events"] for row in results["rows"]] == [300, 600]
    for row in results["rows"]:
        assert row["ingest_events_per_s"] > 0 and row["recall"]["p95_ms"] >= row["recall"]["p50_ms"] > 0
        assert row["bytes_per_event"] > 0 and row["ingest_ratio"] > 0
        assert 0.0 <= row["overlap@10"] <= 1.0
    assert (out_dir / "speed.md").read_text() == out.rstrip("\n") + "\n"


def test_demo_answers_questions(capsys: pytest.CaptureFixture[str], home: str) -> None:
    code, out, _ = run(capsys, "--home", home, "demo", "--top", "2")
    assert code == 0
    assert out.count("\nQ: ") == 6 and "context(" in out and "score" in out
    assert "timeline()" in out and out.count("(session)") == 3  # four sessions: the first, then three cuts
    assert "Maya lives in: Lisbon" in out and "superseded: Maya lives in Berlin" in out
    assert stats(capsys, home)["namespaces"]["demo"] >= 40
    code, out, _ = run(capsys, "--home", home, "demo")  # a second run reuses the stored conversation
    assert code == 0 and "already in" in out and "consolidate(): 0 events" in out
    assert stats(capsys, home)["namespaces"]["demo"] >= 40


def test_sample_conversation_is_well_formed() -> None:
    from engram.interfaces.cli.demo_cmd import sample_events

    events = sample_events()
    assert 40 <= len(events) <= 60
    assert {e["speaker"] for e in events} == {"Maya", "Jonas"}
    assert len({e["session"] for e in events}) == 4
    times = [e["occurred_at"] for e in events]
    assert times == sorted(times)


def test_python_dash_m_engram(tmp_path: Path) -> None:
    env = {**os.environ, "ENGRAM_EMBEDDER": "hash", "ENGRAM_HOME": str(tmp_path / "mem"), "PYTHONPATH": str(REPO)}

    def engram(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "engram", *argv], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )

    stored = engram("remember", "The spare key is under the blue flowerpot.", "-n", "home")
    assert stored.returncode == 0, stored.stderr
    found = engram("recall", "where is the spare key?", "-n", "home", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["id"] == stored.stdout.strip()
    bad = engram("remember", "   ")
    assert bad.returncode == 2
    assert bad.stderr == "engram: error: text is empty\n"


def test_imported_conversation_lands_in_the_past_on_the_timeline(
    capsys: pytest.CaptureFixture[str], home: str, tmp_path: Path
) -> None:
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps(LOCOMO), encoding="utf-8")
    run(capsys, "--home", home, "import", str(path), "--format", "locomo")
    code, out, _ = run(capsys, "--home", home, "timeline", "-n", "conv-t1", "--json")
    episodes = json.loads(out)
    assert code == 0 and [e["started_at"][:10] for e in episodes] == ["2023-05-08", "2023-06-02"]
    assert [e["event_count"] for e in episodes] == [2, 1] and episodes[0]["participants"] == ["Ann", "Bo"]
    assert [e["closed"] for e in episodes] == [True, False]
    code, out, _ = run(capsys, "--home", home, "timeline", "-n", "conv-t1", "--since", "2023-06-01T00:00:00Z")
    assert code == 0 and "2023-06-02" in out and "2023-05-08" not in out


def test_bench_without_a_mechanism_and_the_ablation_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps(LOCOMO), encoding="utf-8")
    out_dir = tmp_path / "results"
    code, out, _ = run(capsys, "bench", "locomo", "--data", str(path), "--without", "contiguity,episodes", "-q")
    assert code == 0 and "recall@10" in out
    code, _, err = run(capsys, "bench", "locomo", "--data", str(path), "--without", "memory-palace", "-q")
    assert code == 2 and "memory-palace" in err
    code, out, _ = run(capsys, "bench", "ablation", "--locomo", str(path), "--out", str(out_dir), "-q")
    assert code == 0
    table = (out_dir / "ablation.md").read_text()
    for label in ("(full engine)", "segmentation", "episodes", "contiguity", "time_cues", "participants", "feedback"):
        assert f"| {label} |" in table


def test_sleep_then_facts_profile_and_reflect(capsys: pytest.CaptureFixture[str], home: str, tmp_path: Path) -> None:
    turns = [
        {"text": "I live in Berlin with my dog Pico.", "speaker": "alice", "occurred_at": "2024-01-03T10:00:00Z"},
        {"text": "I love hiking in the mountains.", "speaker": "alice", "occurred_at": "2024-01-04T10:00:00Z"},
        {"text": "I moved to Lisbon last month!", "speaker": "alice", "occurred_at": "2024-06-20T10:00:00Z"},
    ]
    code, _, _ = run(capsys, "--home", home, "import", str(write_jsonl(tmp_path / "t.jsonl", turns)), "-n", "alice")
    assert code == 0
    code, out, _ = run(capsys, "--home", home, "sleep", "-n", "alice", "--json")
    report = json.loads(out)
    assert code == 0 and report["events"] == 3 and report["superseded"] >= 1
    code, out, _ = run(capsys, "sleep", "--home", home)
    assert code == 0 and out.startswith("consolidated 0 events")  # idempotent
    code, out, _ = run(capsys, "--home", home, "facts", "-n", "alice", "--about", "alice", "--json")
    facts = {(f["predicate"], f["object"]) for f in json.loads(out)}
    assert ("lives_in", "Lisbon") in facts and ("lives_in", "Berlin") not in facts
    code, out, _ = run(capsys, "--home", home, "facts", "-n", "alice", "--at", "2024-02-01T00:00:00Z")
    assert "alice lives in Berlin" in out and "Lisbon" not in out
    code, out, _ = run(capsys, "--home", home, "profile", "-n", "alice")
    assert code == 0 and "alice lives in: Lisbon" in out
    assert stats(capsys, home)["facts"] >= 4
    code, out, _ = run(capsys, "--home", home, "recall", "Lisbon", "-n", "alice", "--json")
    source = json.loads(out)[0]["id"]
    code, out, _ = run(capsys, "--home", home, "reflect", "alice settled in", "--source", source, "-n", "alice")
    assert code == 0 and len(out.strip()) == 32
    code, _, err = run(capsys, "--home", home, "reflect", "x", "--source", "nope", "-n", "alice")
    assert code == 2 and "nope" in err
    code, _, err = run(capsys, "--home", home, "sleep", "--every", "0")
    assert code == 2 and "--every" in err


def test_bench_longmemeval_scores_only_the_named_types(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sessions = [[{"role": "user", "content": "I bought a red bike.", "has_answer": True}]]
    question = {
        "question_id": "q1",
        "question_type": "single-session-user",
        "question": "What colour is my bike?",
        "answer": "red",
        "question_date": "2023/05/30 (Tue) 10:00",
        "haystack_session_ids": ["answer_1"],
        "haystack_dates": ["2023/05/20 (Sat) 09:00"],
        "haystack_sessions": sessions,
        "answer_session_ids": ["answer_1"],
    }
    path = tmp_path / "lme.json"
    path.write_text(json.dumps([question, {**question, "question_id": "q2", "question_type": "multi-session"}]))
    out_dir = tmp_path / "results"
    code, out, _ = run(
        capsys, "bench", "longmemeval", "--data", str(path), "--types", "multi-session", "--out", str(out_dir), "-q"
    )
    assert code == 0 and "1 questions" in out and "| multi-session |" in out
    assert json.loads((out_dir / "longmemeval.json").read_text())["types"] == ["multi-session"]
    code, _, err = run(capsys, "bench", "longmemeval", "--data", str(path), "--types", "multi_session", "-q")
    assert code == 2 and "multi_session" in err


def test_faded_memories_come_back_with_include_faded(capsys: pytest.CaptureFixture[str], home: str) -> None:
    code, out, _ = run(
        capsys, "--home", home, "remember", "the orange kayak rental", "-n", "k", "--at", "2000-01-01T00:00:00+00:00"
    )
    assert code == 0
    kayak = out.strip()
    run(capsys, "--home", home, "remember", "lunch was fine", "-n", "k", "--importance", "0.9")
    late = "2030-01-01T00:00:00+00:00"
    _, default, _ = run(capsys, "--home", home, "recall", "kayak", "-n", "k", "--at", late, "--json")
    assert kayak not in [hit["id"] for hit in json.loads(default)]
    _, faded, _ = run(capsys, "--home", home, "recall", "kayak", "-n", "k", "--at", late, "--include-faded", "--json")
    assert kayak in [hit["id"] for hit in json.loads(faded)]
    _, pure, _ = run(capsys, "--home", home, "recall", "kayak", "-n", "k", "--at", late, "--pure", "--json")
    assert kayak in [hit["id"] for hit in json.loads(pure)]


def test_remember_rejects_an_importance_outside_zero_to_one(capsys: pytest.CaptureFixture[str], home: str) -> None:
    code, _, err = run(capsys, "--home", home, "remember", "x", "--importance", "2")
    assert code == 2 and "importance" in err


def test_strength_prints_the_state_and_reading_changes_nothing(capsys: pytest.CaptureFixture[str], home: str) -> None:
    _, out, _ = run(capsys, "--home", home, "remember", "the key is under the mat", "--at", "2024-01-01T00:00:00+00:00")
    event_id = out.strip()
    at = "2024-01-02T00:00:00+00:00"
    code, first, _ = run(capsys, "--home", home, "strength", event_id, "--at", at)
    assert code == 0
    state = json.loads(first)
    assert state["kind"] == "event" and state["accesses"] == 0 and 0.9 < state["retention"] <= 1.0
    assert state["last_access"] == "2024-01-01T00:00:00+00:00"
    assert run(capsys, "--home", home, "strength", event_id, "--at", at)[1] == first
    run(capsys, "--home", home, "recall", "where is the key", "--at", at)
    assert json.loads(run(capsys, "--home", home, "strength", event_id, "--at", at)[1])["accesses"] == 1
    code, _, err = run(capsys, "--home", home, "strength", "no-such-id")
    assert code == 2 and "no-such-id" in err
