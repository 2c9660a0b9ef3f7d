"""The memory paradigms run against the real engine (hash embedder, small sizes) and show their phenomena."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engram import HashEmbedder, Memory
from engram.eval import paradigm_report, paradigms
from engram.interfaces.cli import main


@pytest.fixture
def memory(tmp_path: Path) -> Memory:
    mem = Memory(tmp_path / "store", embedder=HashEmbedder(dim=256))
    yield mem
    mem.close()


def test_forgetting_curve_falls_and_rehearsal_lifts_it(memory: Memory) -> None:
    result = paradigms.forgetting_curve(memory, n=12)
    plain = result["series"]["no rehearsal"]
    assert result["shown"]
    assert plain["retention"] == sorted(plain["retention"], reverse=True)
    assert plain["recall"][-1] < plain["recall"][0]  # faded items leave cued recall
    assert result["effect"]["rehearsal_gain_retention_1_year"] > 0.2


def test_spaced_rehearsal_beats_massed_at_long_delays(memory: Memory) -> None:
    result = paradigms.spacing(memory, n=12)
    assert result["shown"]
    assert result["effect"]["retention_gain_1_year"] > result["effect"]["retention_gain_1_day"]


def test_free_recall_shows_primacy_and_recency(memory: Memory) -> None:
    result = paradigms.serial_position(memory, lists=12)
    assert result["shown"]
    assert result["effect"]["primacy"] > 0.1 and result["effect"]["recency"] > 0.1


def test_lag_crp_peaks_at_plus_minus_one_forward_first(memory: Memory) -> None:
    result = paradigms.contiguity(memory)
    assert result["shown"]
    crp = dict(zip(result["lags"], result["crp"], strict=True))
    distant = [crp[lag] for lag in (-5, -4, -3, -2, 2, 3, 4, 5)]
    assert crp[1] > crp[-1] > sum(distant) / len(distant)


def test_recognition_outlives_recall_under_interference(memory: Memory) -> None:
    result = paradigms.interference(memory, people=8, counts=(0, 2, 10, 30))
    assert min(result["recognition"]) >= 0.9
    assert result["recall"][-1] < result["recall"][0]


def test_the_count_of_lags_only_counts_available_transitions() -> None:
    import numpy as np

    actual, possible = np.zeros(5), np.zeros(5)
    paradigms._count_lags([2, 3, 1], length=4, max_lag=2, actual=actual, possible=possible)
    # from 2: lags -2..2 -> items 0, 1, 3 available (and 4 is outside); took +1
    # from 3: items 0 (lag -3, outside max_lag), 1 (lag -2) available; took -2
    assert actual.tolist() == [1, 0, 0, 1, 0]
    assert possible.tolist() == [2, 1, 0, 1, 0]


def test_bench_paradigms_writes_json_plots_and_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["bench", "paradigms", "--embedder", "hash", "--only", "serial_position,capacity", "--out", str(out)])
    assert code == 0
    results = json.loads((out / "paradigms.json").read_text())
    assert set(results["paradigms"]) == {"serial_position", "capacity"} and results["all_shown"]
    assert (out / "paradigm_capacity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capacity = results["paradigms"]["capacity"]
    assert capacity["in_working_memory"] == 7 and capacity["displaced_found"] == capacity["displaced"] == 13
    report = (out / "paradigms.md").read_text()
    assert "## 6. Working-memory capacity" in report and "paradigm_serial_position.png" in report
    assert "2 of 2 paradigms show their phenomenon" in capsys.readouterr().out


def test_bench_paradigms_rejects_unknown_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "paradigms", "--embedder", "hash", "--only", "telepathy", "--out", str(tmp_path)])
    assert code == 2 and "telepathy" in capsys.readouterr().err
    assert not (tmp_path / "paradigms.json").exists()


def test_markdown_names_every_paradigm_and_counts_the_shown() -> None:
    results = {
        "embedder": "x",
        "paradigms": {"spacing": {"verdict": "shown: yes", "shown": True, "effect": {"gain": 0.5}}},
    }
    text = paradigm_report.markdown(results, {})
    assert "## 2. Spacing effect" in text and "| gain | 0.500 |" in text and "1 of 1" in text
