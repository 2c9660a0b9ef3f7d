"""Consolidation across OS processes: a writer process and two consolidating processes share one
SQLite file; every fact is derived once, from one source, and nothing is lost or double-counted.

The extractor is the offline ``RuleExtractor`` and the embedder the deterministic hash twin.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from engram import HashEmbedder, Memory

REPO = Path(__file__).resolve().parents[1]
EVENTS = 240

WRITER = textwrap.dedent(
    """
    import sys
    from engram import HashEmbedder, Memory

    mem = Memory(sys.argv[1], embedder=HashEmbedder())
    for start in range(0, int(sys.argv[2]), 8):
        items = [{"text": f"I love hobby{i}.", "speaker": "Ann", "session": f"s{i // 40}"}
                 for i in range(start, start + 8)]
        mem.remember_many(items, namespace="ann")
    mem.close()
    """
)
SLEEPER = textwrap.dedent(
    """
    import sys
    from engram import HashEmbedder, Memory

    mem = Memory(sys.argv[1], embedder=HashEmbedder())
    events = 0
    for _ in range(40):
        events += mem.consolidate("ann").events
    print(events)
    mem.close()
    """
)


def _start(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_writer_and_two_sleepers_in_separate_processes(tmp_path: Path) -> None:
    home = str(tmp_path / "m")
    Memory(home, embedder=HashEmbedder()).close()  # create and migrate the store once
    procs = [_start(WRITER, home, str(EVENTS)), _start(SLEEPER, home), _start(SLEEPER, home)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    with Memory(home, embedder=HashEmbedder()) as mem:
        late = mem.consolidate("ann").events  # whatever the sleepers had not reached yet
        consolidated = sum(int(out) for out, _ in outs[1:]) + late
        facts = mem.facts("ann")
        assert consolidated == EVENTS  # each event consolidated exactly once, across three processes
        assert sorted(f.object for f in facts) == sorted(f"hobby{i}" for i in range(EVENTS))
        assert all(len(f.sources) == 1 for f in facts)
