"""Memory strength: the forgetting curve, the testing and spacing effects, base-level activation,
and fading that hides without deleting — through the real engine with simulated time (``at``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engram import HashEmbedder, Memory, RecallConfig
from engram.cognition import strength as curve
from engram.errors import InvalidInput, NotFound

T0 = datetime(2024, 1, 1, 9, tzinfo=timezone.utc)
DAY = timedelta(days=1)
YEAR = timedelta(days=365)

stabilities = st.floats(min_value=0.01, max_value=1e5)
delays = st.floats(min_value=0.0, max_value=1e10)


@given(stabilities, delays, delays)
def test_retention_is_bounded_and_falls_with_delay(stability: float, a: float, b: float) -> None:
    early, late = sorted((a, b))
    r_early, r_late = curve.retention(stability, early), curve.retention(stability, late)
    assert 0.0 < r_late <= r_early <= 1.0


@given(stabilities)
def test_retention_is_ninety_percent_at_the_stability(stability: float) -> None:
    assert curve.retention(stability, stability * curve.DAY) == pytest.approx(0.9)


def test_the_curve_is_a_power_law_not_an_exponential() -> None:
    # A power law has a long tail: from 10 to 1000 days retention falls by a factor of about 9,
    # where an exponential with the same R(S) would be gone.
    r10, r1000 = curve.retention(1.0, 10 * curve.DAY), curve.retention(1.0, 1000 * curve.DAY)
    assert 0.05 < r1000 < r10 / 5
    assert float(0.9 ** (1000 / 1.0)) < 1e-40


@given(stabilities, st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.0, max_value=1.0))
def test_a_recall_after_a_longer_gap_strengthens_more(stability: float, a: float, b: float) -> None:
    low, high = sorted((a, b))  # retention at the moment of recall: low = a longer gap
    after_long, after_short = (
        curve.stability_after_recall(stability, low),
        curve.stability_after_recall(stability, high),
    )
    assert after_long >= after_short >= stability


@given(st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.0, max_value=1.0))
def test_initial_stability_grows_with_salience_between_the_fsrs_bounds(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert curve.S_HARD <= curve.initial_stability(low) <= curve.initial_stability(high) <= curve.S_EASY + 1e-9


def test_salience_combines_surprise_importance_and_repetition() -> None:
    assert curve.salience(0.0, 0.0, 1) == 0.0
    assert curve.salience(np.nan, np.nan, 1) == 0.0
    assert curve.salience(0.5, 0.0, 1) == pytest.approx(0.5)
    assert curve.salience(0.0, 0.0, 2) == pytest.approx(0.5)  # said twice
    assert curve.salience(0.5, 0.5, 2) == pytest.approx(1 - 0.125)


@given(st.floats(min_value=10.0, max_value=1e8), st.floats(min_value=10.0, max_value=1e8), st.integers(0, 50))
def test_activation_falls_with_time_and_rises_with_use(since: float, more: float, accesses: int) -> None:
    at = 1e9
    now = curve.activation(at - since - 5, at - since, accesses, 0.0, at)
    later = curve.activation(at - since - 5, at - since, accesses, 0.0, at + more)
    used = curve.activation(at - since - 5, at - since, accesses + 1, 0.0, at)
    assert later < now < used


def _memory(tmp_path: Path, name: str = "mem", **options: object) -> Memory:
    return Memory(tmp_path / name, embedder=HashEmbedder(dim=256), **options)  # type: ignore[arg-type]


def test_recall_strengthens_what_it_returns_and_reading_changes_nothing(tmp_path: Path) -> None:
    mem = _memory(tmp_path)
    event = mem.remember("the spare key is under the blue flowerpot", namespace="n", occurred_at=T0)
    before = mem.strength(event.id, at=T0 + DAY)
    assert before.kind == "event" and before.accesses == 0 and before.last_access == T0.timestamp()
    assert mem.strength(event.id, at=T0 + DAY) == before  # reading is not practice
    mem.recall("where is the spare key", namespace="n", at=T0 + DAY, rehearse=False)
    assert mem.strength(event.id, at=T0 + DAY) == before
    mem.recall("where is the spare key", namespace="n", at=T0 + DAY)
    after = mem.strength(event.id, at=T0 + DAY)
    assert after.accesses == 1 and after.stability > before.stability and after.retention == 1.0
    assert after.last_access == (T0 + DAY).timestamp()
    mem.close()


def test_strength_survives_reopening_and_reaches_another_memory(tmp_path: Path) -> None:
    mem = _memory(tmp_path)
    other = _memory(tmp_path)
    event = mem.remember("the spare key is under the blue flowerpot", namespace="n", occurred_at=T0)
    assert other.strength(event.id, at=T0 + DAY).accesses == 0  # other has indexed the namespace
    mem.recall("spare key flowerpot", namespace="n", at=T0 + DAY)
    stability = mem.strength(event.id, at=T0 + DAY).stability
    assert other.strength(event.id, at=T0 + DAY).stability == stability
    mem.close()
    other.close()
    again = _memory(tmp_path)
    assert again.strength(event.id, at=T0 + DAY).accesses == 1
    again.close()


def test_spaced_rehearsal_outlasts_massed_rehearsal(tmp_path: Path) -> None:
    mem = _memory(tmp_path)
    massed = mem.remember("the locker code is 4821", namespace="massed", occurred_at=T0)
    spaced = mem.remember("the locker code is 4821", namespace="spaced", occurred_at=T0)
    for minutes in (60, 61, 62):
        mem.recall("locker code", namespace="massed", at=T0 + timedelta(minutes=minutes))
    for days in (1, 7, 30):
        mem.recall("locker code", namespace="spaced", at=T0 + days * DAY)
    assert mem.strength(massed.id).accesses == mem.strength(spaced.id).accesses == 3
    late = T0 + 2 * YEAR
    assert mem.strength(spaced.id, at=late).retention > mem.strength(massed.id, at=late).retention + 0.1
    mem.close()


def test_faded_events_leave_default_recall_but_stay_stored_and_recognisable(tmp_path: Path) -> None:
    mem = _memory(tmp_path)
    old = mem.remember("we talked about the orange kayak rental", namespace="n", occurred_at=T0)
    mem.remember("lunch was fine", namespace="n", occurred_at=T0 + 20 * YEAR)
    at = T0 + 20 * YEAR + DAY
    assert mem.strength(old.id, at=at).faded and not mem.strength(old.id, at=T0 + DAY).faded
    weak = "kayak"
    assert old.id not in [h.event.id for h in mem.recall(weak, namespace="n", at=at)]
    assert old.id in [h.event.id for h in mem.recall(weak, namespace="n", at=at, include_faded=True)]
    assert old.id in [h.event.id for h in mem.recall(weak, namespace="n", at=at, strength=False)]
    assert old.id in [h.event.id for h in mem.recall(weak, namespace="n", at=at, until=T0 + DAY)]  # its context
    verbatim = mem.recall("we talked about the orange kayak rental", namespace="n", at=at)
    assert verbatim[0].event.id == old.id  # a strong, specific cue still finds it
    assert mem.get(old.id).text == old.text  # fading deletes nothing
    mem.close()


def test_rehearsal_keeps_a_memory_from_fading(tmp_path: Path) -> None:
    mem = _memory(tmp_path)
    kept = mem.remember("the orange kayak is stored in shed four", namespace="n", occurred_at=T0)
    for year in range(1, 20, 2):
        mem.recall("the orange kayak is stored in shed four", namespace="n", at=T0 + year * YEAR)
    at = T0 + 20 * YEAR + DAY
    assert not mem.strength(kept.id, at=at).faded
    assert kept.id in [h.event.id for h in mem.recall("kayak", namespace="n", at=at)]
    mem.close()


def test_activation_raises_a_rehearsed_memory_among_similar_ones(tmp_path: Path) -> None:
    mem = _memory(tmp_path)
    texts = [f"garden note {i}: the tomatoes in bed {i} need water" for i in range(30)]
    events = mem.remember_many([{"text": t, "occurred_at": T0 + i * DAY} for i, t in enumerate(texts)], namespace="n")
    at = T0 + 60 * DAY
    plain = [
        h.event.id
        for h in mem.recall("tomatoes need water", namespace="n", at=at, k=30, rehearse=False, strength=False)
    ]
    target = plain[len(plain) // 2]  # a middling match
    text = next(e.text for e in events if e.id == target)
    for day in (1, 5, 20):
        mem.recall(text, namespace="n", at=at + day * DAY, k=1)
    later = at + 30 * DAY
    ranked = [h.event.id for h in mem.recall("tomatoes need water", namespace="n", at=later, k=30, rehearse=False)]
    assert ranked.index(target) < plain.index(target)
    again = mem.recall("tomatoes need water", namespace="n", at=later, k=30, strength=False, rehearse=False)
    assert [h.event.id for h in again] == plain  # pure similarity ignores strength
    mem.close()


def test_pure_similarity_recall_equals_recall_with_strength_switched_off(tmp_path: Path) -> None:
    on = _memory(tmp_path, "on")
    off = _memory(tmp_path, "off", recall=RecallConfig(strength=False))
    texts = [f"note {i}: the meeting about budget item {i % 7} moved to room {i % 5}" for i in range(40)]
    for mem in (on, off):
        mem.remember_many([{"text": t, "occurred_at": T0 + i * DAY} for i, t in enumerate(texts)], namespace="n")
    at = T0 + 60 * DAY
    for query in ("budget item 3", "room 2 meeting", "note 17"):
        a = [h.event.text for h in on.recall(query, namespace="n", at=at, strength=False, rehearse=False)]
        b = [h.event.text for h in off.recall(query, namespace="n", at=at)]
        assert a == b
    on.close()
    off.close()


def test_importance_raises_stability_and_is_validated(tmp_path: Path) -> None:
    mem = _memory(tmp_path)
    plain = mem.remember("my passport number ends in 77", namespace="n", occurred_at=T0)
    vital = mem.remember("my passport number ends in 77", namespace="m", occurred_at=T0, importance=1.0)
    assert mem.get(vital.id).importance == 1.0 and mem.get(plain.id).importance is None
    assert mem.strength(vital.id).stability > mem.strength(plain.id).stability
    before = mem.stats()["events"]
    for bad in (1.5, -0.1, "high", True):
        with pytest.raises(InvalidInput, match="importance"):
            mem.remember("x", namespace="n", importance=bad)  # type: ignore[arg-type]
    assert mem.stats()["events"] == before
    mem.close()


def test_repetition_makes_a_memory_salient(tmp_path: Path) -> None:
    mem = _memory(tmp_path)
    once = mem.remember("the dentist is on Friday", namespace="a", occurred_at=T0)
    twice = mem.remember("the dentist is on Friday", namespace="b", occurred_at=T0)
    mem.remember("the dentist is on Friday", namespace="b", occurred_at=T0 + DAY)
    assert mem.strength(twice.id, namespace="b").salience > mem.strength(once.id, namespace="a").salience
    mem.close()


def test_episodes_and_facts_have_strength_too(tmp_path: Path) -> None:
    mem = _memory(tmp_path)
    mem.remember_many(
        [
            {"text": f"we planned the garden, step {i}", "session": "s1", "occurred_at": T0 + i * timedelta(minutes=1)}
            for i in range(4)
        ],
        namespace="n",
    )
    episode = mem.timeline("n")[0]
    before = mem.strength(episode.id, namespace="n", at=T0 + DAY)
    assert before.kind == "episode" and before.accesses == 0
    hits = mem.recall_episodes("garden plans", namespace="n", at=T0 + DAY)
    assert hits[0].episode.id == episode.id
    after = mem.strength(episode.id, namespace="n", at=T0 + DAY)
    assert after.accesses == 1 and after.stability > before.stability
    with pytest.raises(NotFound):
        mem.strength("no-such-id", namespace="n")
    mem.close()


def test_recall_switches_are_validated(tmp_path: Path) -> None:
    mem = _memory(tmp_path)
    mem.remember("hello", namespace="n")
    for name in ("strength", "rehearse", "include_faded"):
        with pytest.raises(InvalidInput, match=name):
            mem.recall("hello", namespace="n", **{name: "yes"})  # type: ignore[arg-type]
    mem.close()


def test_a_fact_that_brings_an_event_back_is_strengthened(tmp_path: Path) -> None:
    from twins import TwinExtractor

    mem = Memory(tmp_path / "m", embedder=HashEmbedder(dim=256), extractor=TwinExtractor())
    filler = [f"Ann talked about the weather and the news, day {i}" for i in range(30)]
    items = [{"text": t, "speaker": "Ann", "occurred_at": T0 + timedelta(hours=i)} for i, t in enumerate(filler)]
    items.insert(12, {"text": "my dog Pico chewed a shoe", "speaker": "Ann", "occurred_at": T0 + timedelta(hours=40)})
    target = mem.remember_many(items, namespace="ann")[12]
    mem.consolidate("ann")
    fact = next(f for f in mem.facts("ann") if target.id in f.sources)
    at = T0 + 10 * DAY
    assert mem.strength(fact.id, namespace="ann", at=at).accesses == 0
    hits = mem.recall("which pet", namespace="ann", k=3, at=at)
    assert hits[0].event.id == target.id and "via a fact" in hits[0].why()
    after = mem.strength(fact.id, namespace="ann", at=at)
    assert after.kind == "fact" and after.accesses == 1 and after.last_access == at.timestamp()
    mem.recall("which pet", namespace="ann", k=3, at=at + DAY, rehearse=False)
    assert mem.strength(fact.id, namespace="ann", at=at).accesses == 1
    mem.close()
