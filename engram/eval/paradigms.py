"""The classic experiments of memory psychology, run against the real engine with simulated time.

Each paradigm stores synthetic study material with ``remember`` (event time = study time), then
tests it with ``recall`` at later moments ``at``. Tests never strengthen what they probe
(``rehearse=False``); a rehearsal is an ordinary ``recall`` that returns the item (the testing
effect). Every function returns a dict with the measured series, ``effect`` (the size of the
phenomenon) and ``verdict`` (one line: is it there, and by how much).

1. ``forgetting_curve``: retention vs delay, with and without rehearsal.
2. ``spacing``: three rehearsals massed vs spaced, tested at delays after the last one.
3. ``serial_position``: free recall of studied lists (primacy and recency).
4. ``contiguity``: lag-conditional response probability of successive recalls.
5. ``interference``: recognition vs cued recall as interfering updates accumulate.
The sixth, working-memory capacity, is ``engram.eval.agent_trace.capacity_paradigm``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from engram.interfaces.api import Memory

__all__ = ["contiguity", "forgetting_curve", "interference", "serial_position", "spacing"]

T0 = datetime(2024, 1, 1, 9, tzinfo=timezone.utc)
HOUR, DAY, YEAR = timedelta(hours=1), timedelta(days=1), timedelta(days=365)
DELAYS = {
    "1 hour": HOUR,
    "1 day": DAY,
    "1 week": 7 * DAY,
    "1 month": 30 * DAY,
    "3 months": 90 * DAY,
    "1 year": YEAR,
    "2 years": 2 * YEAR,
    "5 years": 5 * YEAR,
    "10 years": 10 * YEAR,
    "20 years": 20 * YEAR,
}
NAMES = (
    "Priya Tomas Aiko Lena Omar Sofia Mateo Yuki Nadia Felix Ines Kwame Hana Luca Mira Pavel Zara Ivan Noor Elif "
    "Jonas Amara Diego Freya Ravi Selin Hugo Leila Bruno Maya Arjun Clara Tariq Eva Kenji Rosa Samir Ada Milo Dara"
).split()
OBJECTS = (
    "bicycle passport guitar telescope camera laptop violin kayak umbrella lantern notebook compass "
    "backpack scooter skateboard microscope keyboard tripod hammock sewing-machine"
).split()
PLACES = (
    "garage attic basement shed kitchen drawer wardrobe cellar closet studio garden hallway "
    "office barn loft pantry porch workshop balcony library"
).split()
WORDS = (
    "apple river candle doctor garden hammer island jacket kettle lemon mirror needle orange pencil rabbit saddle "
    "tiger umbrella violin window anchor basket carpet dragon engine feather forest glove harbor helmet insect "
    "jungle kitten ladder magnet napkin ocean parrot pillow puzzle quilt rocket salmon shovel spider teapot "
    "tunnel valley wagon whistle yacht zebra bottle bridge cabin canyon castle cherry cloud comet crown desert "
    "donkey eagle falcon fence flute fossil giraffe guitar hammock honey iceberg jewel kayak lantern lizard "
    "meadow mountain mushroom nest onion orchard oyster panda pepper piano planet pumpkin radio robot sailor "
    "scarf shark silver snail statue tomato tractor trumpet turtle velvet volcano walnut wheat wolf"
).split()


def _items(n: int, seed: int) -> list[tuple[str, str]]:
    """(statement, cue) pairs: "Priya keeps her bicycle in the garage." / "Priya's bicycle"."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        name, thing = NAMES[i % len(NAMES)], OBJECTS[(i // len(NAMES) + i) % len(OBJECTS)]
        place = PLACES[int(rng.integers(len(PLACES)))]
        out.append(
            (f"{name} keeps the {thing.replace('-', ' ')} in the {place}.", f"{name}'s {thing.replace('-', ' ')}")
        )
    return out


def _study(memory: Memory, namespace: str, texts: Sequence[str], start: datetime, step: timedelta) -> list[str]:
    events = memory.remember_many(
        [{"text": t, "occurred_at": start + i * step} for i, t in enumerate(texts)], namespace=namespace
    )
    return [e.id for e in events]


def _found(memory: Memory, namespace: str, cue: str, target: str, at: datetime, k: int) -> bool:
    return target in [h.event.id for h in memory.recall(cue, namespace=namespace, k=k, at=at, rehearse=False)]


def _rehearse(memory: Memory, namespace: str, cues: Sequence[str], moments: Sequence[datetime], k: int) -> None:
    """Recall every item by its cue at each moment: a rehearsal is an ordinary recall."""
    for moment in moments:
        for cue in cues:
            memory.recall(cue, namespace=namespace, k=k, at=moment)


def _probe(
    memory: Memory, namespace: str, ids: list[str], cues: list[str], at: datetime, k: int
) -> tuple[float, float]:
    """(proportion recalled by their cues, mean retention) at ``at``."""
    recalled = np.mean([_found(memory, namespace, c, i, at, k) for i, c in zip(ids, cues, strict=True)])
    retention = np.mean([memory.strength(i, at=at).retention for i in ids])
    return float(recalled), float(retention)


def forgetting_curve(memory: Memory, *, n: int = 40, k: int = 5, seed: int = 0) -> dict[str, Any]:
    """Retention and cued recall at delays from an hour to twenty years, for items never
    rehearsed and for items rehearsed (recalled by their cue) after 1 day, 1 week and 1 month."""
    texts, cues = map(list, zip(*_items(n, seed), strict=True))
    series: dict[str, dict[str, list[float]]] = {}
    for condition, rehearsals in (("no rehearsal", ()), ("rehearsed at 1 d, 7 d, 30 d", (1, 7, 30))):
        namespace = f"forgetting-{len(rehearsals)}"
        ids = _study(memory, namespace, texts, T0, timedelta(seconds=30))
        _rehearse(memory, namespace, cues, [T0 + days * DAY for days in rehearsals], k)
        recall, retention = [], []
        for delay in DELAYS.values():
            r, m = _probe(memory, namespace, ids, cues, T0 + delay, k)
            recall.append(r)
            retention.append(m)
        series[condition] = {"recall": recall, "retention": retention}
    plain, rehearsed = series["no rehearsal"], series["rehearsed at 1 d, 7 d, 30 d"]
    falls = all(a >= b - 1e-12 for a, b in zip(plain["retention"], plain["retention"][1:], strict=False))
    at5 = list(DELAYS).index("5 years")
    effect = {
        "retention_1_month": plain["retention"][3],
        "retention_1_year": plain["retention"][5],
        "recall_5_years_plain": plain["recall"][at5],
        "recall_5_years_rehearsed": rehearsed["recall"][at5],
        "rehearsal_gain_retention_1_year": rehearsed["retention"][5] - plain["retention"][5],
    }
    shown = falls and plain["retention"][-1] < plain["retention"][0] and effect["rehearsal_gain_retention_1_year"] > 0
    verdict = (
        f"{'shown' if shown else 'NOT shown'}: retention falls from {plain['retention'][0]:.2f} (1 h) to "
        f"{plain['retention'][5]:.2f} (1 y) and {plain['retention'][-1]:.2f} (20 y) along a power law; cued recall "
        f"at 5 y is {effect['recall_5_years_plain']:.2f} unrehearsed vs {effect['recall_5_years_rehearsed']:.2f} "
        f"rehearsed; rehearsal adds {effect['rehearsal_gain_retention_1_year']:+.2f} retention at 1 y"
    )
    return {"delays": list(DELAYS), "series": series, "effect": effect, "shown": shown, "verdict": verdict}


def spacing(memory: Memory, *, n: int = 40, k: int = 5, seed: int = 1) -> dict[str, Any]:
    """The same three rehearsals massed (an hour after study, a minute apart) or spaced (after 1,
    7 and 30 days); retention and cued recall tested at delays after the last rehearsal."""
    texts, cues = map(list, zip(*_items(n, seed), strict=True))
    schedules = {
        "massed (1 h, +1 min, +2 min)": [HOUR, HOUR + timedelta(minutes=1), HOUR + timedelta(minutes=2)],
        "spaced (1 d, 7 d, 30 d)": [DAY, 7 * DAY, 30 * DAY],
    }
    intervals = {"1 day": DAY, "1 month": 30 * DAY, "1 year": YEAR, "5 years": 5 * YEAR, "10 years": 10 * YEAR}
    series: dict[str, dict[str, list[float]]] = {}
    for index, (condition, moments) in enumerate(schedules.items()):
        namespace = f"spacing-{index}"
        ids = _study(memory, namespace, texts, T0, timedelta(seconds=30))
        _rehearse(memory, namespace, cues, [T0 + moment for moment in moments], k)
        last = T0 + moments[-1]
        probes = [_probe(memory, namespace, ids, cues, last + delay, k) for delay in intervals.values()]
        series[condition] = {"recall": [p[0] for p in probes], "retention": [p[1] for p in probes]}
    massed, spaced = series.values()
    gap = [s - m for s, m in zip(spaced["retention"], massed["retention"], strict=True)]
    effect = {
        "retention_gain_1_day": gap[0],
        "retention_gain_1_year": gap[2],
        "retention_gain_10_years": gap[4],
        "recall_10_years_massed": massed["recall"][4],
        "recall_10_years_spaced": spaced["recall"][4],
    }
    shown = gap[2] > 0 and gap[4] > 0 and gap[4] >= gap[0]
    verdict = (
        f"{'shown' if shown else 'NOT shown'}: with the same three rehearsals, spaced beats massed by "
        f"{gap[0]:+.2f} retention 1 day after the last, {gap[2]:+.2f} after 1 year, {gap[4]:+.2f} after 10 years; "
        f"cued recall at 10 years {effect['recall_10_years_massed']:.2f} massed vs "
        f"{effect['recall_10_years_spaced']:.2f} spaced"
    )
    return {"intervals": list(intervals), "series": series, "effect": effect, "shown": shown, "verdict": verdict}


def _lists(count: int, length: int, seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    return [[str(w) for w in rng.choice(WORDS, size=length, replace=False)] for _ in range(count)]


def _free_recall(memory: Memory, namespace: str, cue: str, at: datetime, k: int) -> list[str]:
    """The top ``k`` hits of one list-wide cue, best first."""
    return [h.event.id for h in memory.recall(cue, namespace=namespace, k=k, at=at, rehearse=False)]


def _chained_recall(
    memory: Memory, namespace: str, cue: str, at: datetime, k: int, rng: np.random.Generator
) -> list[str]:
    """Recall cued by what was just recalled: the first item is the top hit of the list-wide cue;
    each next one is drawn from the hits for the previous item's own words that were not yet
    recalled, with probability proportional to the engine's score (Luce's choice rule, as SAM
    and CMR turn memory strengths into recall probabilities)."""
    order = _free_recall(memory, namespace, cue, at, 1)
    while order and len(order) < k:
        last = memory.get(order[-1]).text
        hits = [
            h
            for h in memory.recall(last, namespace=namespace, k=k + 5, at=at, rehearse=False)
            if h.event.id not in order
        ]
        if not hits:
            break
        scores = np.array([h.score for h in hits])
        order.append(hits[int(rng.choice(len(hits), p=scores / scores.sum()))].event.id)
    return order


LIST_CUE = "a word from the list I just studied"


def serial_position(memory: Memory, *, lists: int = 40, length: int = 15, k: int = 6, seed: int = 2) -> dict[str, Any]:
    """Immediate free recall of ``lists`` word lists (a word every 2 s; recall 5 s after the
    last): the probability of recalling each serial position."""
    counts = np.zeros(length)
    for n, words in enumerate(_lists(lists, length, seed)):
        namespace = f"serial-{n}"
        ids = _study(memory, namespace, words, T0, timedelta(seconds=2))
        at = T0 + (length - 1) * timedelta(seconds=2) + timedelta(seconds=5)
        for event_id in _free_recall(memory, namespace, LIST_CUE, at, k):
            counts[ids.index(event_id)] += 1
    p = counts / lists
    edge = 3
    middle = float(p[length // 3 : length - length // 3].mean())  # the middle third
    effect = {"primacy": float(p[:edge].mean()) - middle, "recency": float(p[-edge:].mean()) - middle, "middle": middle}
    shown = effect["primacy"] > 0 and effect["recency"] > 0
    verdict = (
        f"{'shown' if shown else 'NOT shown'}: positions 1-{edge} recalled {p[:edge].mean():.2f}, the middle "
        f"{middle:.2f}, the last {edge} {p[-edge:].mean():.2f} (primacy {effect['primacy']:+.2f}, "
        f"recency {effect['recency']:+.2f}; {k} of {length} words recalled per list, {lists} lists)"
    )
    return {
        "positions": list(range(1, length + 1)),
        "p_recall": p.tolist(),
        "effect": effect,
        "shown": shown,
        "verdict": verdict,
    }


def contiguity(
    memory: Memory, *, lists: int = 40, length: int = 15, k: int = 6, seed: int = 3, max_lag: int = 5
) -> dict[str, Any]:
    """Lag-CRP (Kahana 1996): of the transitions from one recall to the next, how often each lag
    was taken, divided by how often it was available (not yet recalled, inside the list)."""
    actual, possible = np.zeros(2 * max_lag + 1), np.zeros(2 * max_lag + 1)
    rng = np.random.default_rng(seed)
    for n, words in enumerate(_lists(lists, length, seed)):
        namespace = f"crp-{n}"
        ids = _study(memory, namespace, words, T0, timedelta(seconds=2))
        at = T0 + (length - 1) * timedelta(seconds=2) + timedelta(seconds=5)
        order = [ids.index(i) for i in _chained_recall(memory, namespace, LIST_CUE, at, k, rng)]
        _count_lags(order, length, max_lag, actual, possible)
    crp = np.divide(actual, possible, out=np.zeros_like(actual), where=possible > 0)
    lags = list(range(-max_lag, max_lag + 1))
    plus, minus = crp[max_lag + 1], crp[max_lag - 1]
    distant = float(np.mean([crp[i] for i, lag in enumerate(lags) if abs(lag) >= 2]))
    effect = {
        "crp_plus_1": float(plus),
        "crp_minus_1": float(minus),
        "crp_distant": distant,
        "asymmetry": float(plus / minus) if minus else float("inf"),
    }
    shown = plus > distant and minus > distant and plus > minus
    verdict = (
        f"{'shown' if shown else 'NOT shown'}: lag +1 {plus:.2f}, lag -1 {minus:.2f}, |lag| >= 2 {distant:.2f} "
        f"(forward/backward {effect['asymmetry']:.2f}x)"
    )
    return {"lags": lags, "crp": crp.tolist(), "effect": effect, "shown": shown, "verdict": verdict}


def _count_lags(order: list[int], length: int, max_lag: int, actual: np.ndarray, possible: np.ndarray) -> None:
    for step in range(len(order) - 1):
        here, done = order[step], set(order[: step + 1])
        for lag in range(-max_lag, max_lag + 1):
            target = here + lag
            if lag and 0 <= target < length and target not in done:
                possible[lag + max_lag] += 1
        lag = order[step + 1] - here
        if abs(lag) <= max_lag:
            actual[lag + max_lag] += 1


INTERFERENCE = (0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 40)


def interference(
    memory: Memory, *, people: int = 20, counts: Sequence[int] = INTERFERENCE, seed: int = 4
) -> dict[str, Any]:
    """Recognition vs cued recall of an original fact ("Priya's locker code is 4821") after
    ``n`` interfering updates of the same kind ("Priya's locker code is 7390", …).

    Recognition: the original statement as the probe finds itself first. Cued recall: the
    question "what is Priya's locker code?" brings the original back first."""
    rng = np.random.default_rng(seed)
    recognition, recall = [], []
    for count in counts:
        namespace = f"interference-{count}"
        codes = rng.choice(9000, size=(people, count + 1), replace=False if people * (count + 1) <= 9000 else True)
        originals = [f"{NAMES[p]}'s locker code is {1000 + codes[p, 0]}." for p in range(people)]
        ids = _study(memory, namespace, originals, T0, timedelta(minutes=1))
        updates = [
            f"{NAMES[p]}'s locker code is {1000 + codes[p, j]}." for j in range(1, count + 1) for p in range(people)
        ]
        if updates:
            _study(memory, namespace, updates, T0 + DAY, timedelta(minutes=1))
        at = T0 + 2 * DAY + len(updates) * timedelta(minutes=1)
        recognition.append(
            float(np.mean([_found(memory, namespace, t, i, at, 1) for t, i in zip(originals, ids, strict=True)]))
        )
        recall.append(
            float(
                np.mean(
                    [
                        _found(memory, namespace, f"What is {NAMES[p]}'s locker code?", ids[p], at, 1)
                        for p in range(people)
                    ]
                )
            )
        )
    first10 = recall[0] - recall[counts.index(10)] if 10 in counts else float("nan")
    after10 = recall[counts.index(10)] - recall[-1] if 10 in counts else float("nan")
    effect = {"recognition_min": min(recognition), "recall_drop_first_10": first10, "recall_drop_after_10": after10}
    shown = min(recognition) >= 0.9 and first10 > after10 >= 0 and recall[-1] < recognition[-1]
    verdict = (
        f"{'shown' if shown else 'NOT shown'}: after {counts[-1]} interfering updates recognition stays at "
        f"{recognition[-1]:.2f} (lowest {min(recognition):.2f}) while cued recall falls from {recall[0]:.2f} to "
        f"{recall[-1]:.2f}: {first10:.2f} over the first 10 updates, {after10:.2f} over the next {counts[-1] - 10}"
    )
    return {
        "interfering": list(counts),
        "recognition": recognition,
        "recall": recall,
        "effect": effect,
        "shown": shown,
        "verdict": verdict,
    }


PARADIGMS: dict[str, Callable[..., dict[str, Any]]] = {
    "forgetting_curve": forgetting_curve,
    "spacing": spacing,
    "serial_position": serial_position,
    "contiguity": contiguity,
    "interference": interference,
}
