"""Nothing acknowledged is lost: SIGKILL a writer mid-ingest, reopen, find every acknowledged id.

The child remembers events one at a time and prints each id only after ``remember`` has
returned; the parent kills it without warning (no cleanup, no atexit, no final flush of
SQLite) and then checks the store from a fresh process state.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engram import HashEmbedder, Memory

REPO = Path(__file__).resolve().parents[1]
KILL_AFTER = 150  # acknowledged writes before the kill

WRITER = textwrap.dedent(
    """
    import sys
    from engram import HashEmbedder, Memory

    mem = Memory(sys.argv[1], embedder=HashEmbedder())
    i = 0
    while True:
        event = mem.remember(f"crash test event {i}: the kettle is in cupboard {i % 7}", namespace="crash",
                             session=f"s{i // 10}", metadata={"i": i})
        print(event.id, i, flush=True)
        i += 1
    """
)


def _ack(line: str) -> tuple[str, int]:
    event_id, i = line.split()
    return event_id, int(i)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    store = tmp_path / "mem"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    acknowledged: list[tuple[str, int]] = []
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        try:
            for line in child.stdout:
                acknowledged.append(_ack(line))
                if len(acknowledged) == KILL_AFTER:
                    child.send_signal(signal.SIGKILL)  # mid-ingest: the child is already writing the next one
                    break
            # Lines the child printed before it died were acknowledged too.
            acknowledged += [_ack(line) for line in child.stdout if line.strip()]
        finally:
            child.kill()
            child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL, child.stderr.read()
    assert len(acknowledged) >= KILL_AFTER

    with Memory(store, embedder=HashEmbedder()) as mem:
        for event_id, i in acknowledged:
            event = mem.get(event_id)
            assert event.metadata == {"i": i}
            assert event.text.startswith(f"crash test event {i}:")
        # The store is whole after the crash: counted, searchable and writable.
        assert mem.stats()["namespaces"]["crash"] >= len(acknowledged)
        [hit] = mem.recall(f"crash test event {acknowledged[-1][1]}", namespace="crash", k=1)
        assert hit.event.id == acknowledged[-1][0]
        mem.remember("written after the crash", namespace="crash")
