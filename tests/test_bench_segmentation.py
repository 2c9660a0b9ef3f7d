"""``engram bench segmentation`` on tiny synthetic LoCoMo- and MSC-shaped files, hash embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engram.interfaces.cli import main

TOPICS = ["cats dogs pets vet", "stocks bonds money bank", "guitar piano music band"]


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ENGRAM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ENGRAM_LOCOMO", raising=False)


def _locomo(path: Path) -> Path:
    body: dict[str, object] = {"speaker_a": "Ann", "speaker_b": "Bob"}
    for s, topic in enumerate(TOPICS, start=1):
        body[f"session_{s}"] = [
            {"speaker": ["Ann", "Bob"][i % 2], "dia_id": f"D{s}:{i + 1}", "text": f"{topic} {i}"} for i in range(12)
        ]
        body[f"session_{s}_date_time"] = f"1:56 pm on {s} May, 2023"
    path.write_text(json.dumps([{"sample_id": "conv-x", "conversation": body, "qa": []}]))
    return path


def _msc(path: Path) -> Path:
    sessions = [{"dialog": [{"text": f"{topic} {i}"} for i in range(12)]} for topic in TOPICS]
    episode = {"previous_dialogs": sessions[:2], "dialog": sessions[2]["dialog"]}
    path.write_text(json.dumps(episode) + "\n")
    return path


def test_bench_segmentation_writes_reports(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["--embedder", "hash", "bench", "segmentation", "--data", str(_locomo(tmp_path / "locomo.json"))]
    code = main([*argv, "--msc", str(_msc(tmp_path / "msc.jsonl")), "--msc-limit", "5", "--out", str(out), "-q"])
    printed = capsys.readouterr().out
    assert code == 0
    results = json.loads((out / "segmentation.json").read_text())
    assert results["benchmark"] == "segmentation"
    assert results["locomo_timestamps"]["f1"] == pytest.approx(1.0)
    assert results["locomo"]["gold_boundaries"] == results["msc"]["gold_boundaries"] == 2
    assert results["msc"]["streams"] == 1
    for key in ("locomo", "msc"):
        assert 0.0 <= results[key]["f1"] <= 1.0
    table = (out / "segmentation.md").read_text()
    assert table == printed.rstrip("\n") + "\n"
    assert "LoCoMo, with timestamps" in table and "MSC, no timestamps" in table


def test_bench_segmentation_needs_data(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--embedder", "hash", "bench", "segmentation", "--out", str(tmp_path)]) == 2
    assert "ENGRAM_LOCOMO" in capsys.readouterr().err
    missing = str(tmp_path / "nope.json")
    assert main(["--embedder", "hash", "bench", "segmentation", "--data", missing, "--out", str(tmp_path)]) == 2
