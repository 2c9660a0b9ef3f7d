"""``engram bench paradigms``: run the six paradigms, write JSON, one PNG plot each and a Markdown report."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engram.eval import paradigms
from engram.interfaces.api import Memory
from engram.perception.embedders import Embedder

__all__ = ["markdown", "plot", "run"]

TITLES = {
    "forgetting_curve": "1. Forgetting curve",
    "spacing": "2. Spacing effect",
    "serial_position": "3. Serial position",
    "contiguity": "4. Temporal contiguity (lag-CRP)",
    "interference": "5. Recognition vs recall under interference",
    "capacity": "6. Working-memory capacity",
}


def _capacity(memory: Memory) -> dict[str, Any]:
    """Paradigm 6 (``engram.eval.capacity``), with the keys the report reads."""
    from engram.eval.capacity import capacity_paradigm

    result = capacity_paradigm(memory)
    held, capacity = result["in_working_memory"], result["capacity"]
    displaced, found = result["displaced"], result["displaced_found"]
    result["shown"] = held == capacity and displaced == result["items"] - capacity and found == displaced > 0
    result["verdict"] = ("shown: " if result["shown"] else "NOT shown: ") + result["verdict"]
    result["effect"] = {"held": held, "displaced": displaced, "displaced_found": found, "cohens_h": result["cohens_h"]}
    return result


def run(embedder: Embedder, *, only: list[str] | None = None) -> dict[str, Any]:
    """Every paradigm (or those in ``only``) on a fresh store in a temporary directory."""
    steps: dict[str, Callable[[Memory], dict[str, Any]]] = {**paradigms.PARADIGMS, "capacity": _capacity}
    chosen = only or list(steps)
    results: dict[str, Any] = {"embedder": embedder.name, "paradigms": {}}
    with tempfile.TemporaryDirectory(prefix="engram-paradigms-") as tmp:
        memory = Memory(Path(tmp) / "store", embedder=embedder)
        try:
            for name in chosen:
                started = time.perf_counter()
                result = steps[name](memory)
                result["seconds"] = round(time.perf_counter() - started, 2)
                results["paradigms"][name] = result
        finally:
            memory.close()
    results["all_shown"] = all(bool(r.get("shown")) for r in results["paradigms"].values())
    return results


def markdown(results: dict[str, Any], plots: dict[str, str]) -> str:
    lines = [
        "# Memory paradigms",
        "",
        f"The real engine with simulated time (`at`); embedder `{results['embedder']}`. "
        "Each verdict says whether the engine shows the phenomenon, and by how much.",
        "",
    ]
    for name, result in results["paradigms"].items():
        lines += [f"## {TITLES.get(name, name)}", "", f"**{result['verdict']}**", ""]
        if name in plots:
            lines += [f"![{name}]({plots[name]})", ""]
        effect = result.get("effect", {})
        if effect:
            lines += ["| effect | value |", "|---|---|"]
            lines += [f"| {key} | {_number(value)} |" for key, value in effect.items()]
            lines.append("")
    shown = sum(bool(r.get("shown")) for r in results["paradigms"].values())
    lines.append(f"{shown} of {len(results['paradigms'])} paradigms show their phenomenon.")
    return "\n".join(lines) + "\n"


def _number(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def plot(name: str, result: dict[str, Any], path: Path) -> bool:
    """Draw one paradigm's result to ``path`` (PNG); False when it has nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    try:
        if not _draw(name, result, ax):
            return False
        ax.set_title(TITLES.get(name, name))
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path)
        return True
    finally:
        plt.close(fig)


def _draw(name: str, r: dict[str, Any], ax: Any) -> bool:
    if name in ("forgetting_curve", "spacing"):
        x = r["delays"] if name == "forgetting_curve" else r["intervals"]
        for condition, series in r["series"].items():
            ax.plot(x, series["retention"], marker="o", label=f"{condition}: retention")
            ax.plot(x, series["recall"], marker="x", linestyle="--", label=f"{condition}: cued recall")
        ax.set_ylabel("proportion")
        ax.set_xlabel("delay" if name == "forgetting_curve" else "delay after the last rehearsal")
        ax.tick_params(axis="x", rotation=45)
        ax.legend(fontsize=7)
    elif name == "serial_position":
        ax.plot(r["positions"], r["p_recall"], marker="o")
        ax.set_xlabel("serial position")
        ax.set_ylabel("P(recall)")
    elif name == "contiguity":
        lags, crp = r["lags"], r["crp"]
        middle = lags.index(0)
        ax.plot(lags[:middle], crp[:middle], marker="o", color="C0")
        ax.plot(lags[middle + 1 :], crp[middle + 1 :], marker="o", color="C0")
        ax.set_xlabel("lag")
        ax.set_ylabel("conditional response probability")
    elif name == "interference":
        ax.plot(r["interfering"], r["recognition"], marker="o", label="recognition")
        ax.plot(r["interfering"], r["recall"], marker="x", label="cued recall")
        ax.set_xlabel("interfering updates")
        ax.set_ylabel("proportion correct")
        ax.legend()
    elif name == "capacity":
        labels = ["studied", "in working memory", "displaced", "displaced, recalled first"]
        ax.bar(labels, [r["items"], r["in_working_memory"], r["displaced"], r["displaced_found"]], color="C0")
        ax.axhline(r["capacity"], color="C3", linestyle="--", label=f"capacity {r['capacity']}")
        ax.set_ylabel("items")
        ax.tick_params(axis="x", labelsize=8)
        ax.legend()
    else:
        return False
    return True


def write(results: dict[str, Any], out: Path) -> str:
    """Write ``paradigms.json``, ``paradigm_<name>.png`` and ``paradigms.md`` into ``out``; return the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    plots = {}
    for name, result in results["paradigms"].items():
        image = out / f"paradigm_{name}.png"
        if plot(name, result, image):
            plots[name] = image.name
    (out / "paradigms.json").write_text(json.dumps(results, indent=2, default=float))
    text = markdown(results, plots)
    (out / "paradigms.md").write_text(text)
    return text
