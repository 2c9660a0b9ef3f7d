"""The strength state of one namespace's memories, in process, row-aligned with its events.

An event never recalled has no stored row: its state follows from the record (formed and last
presented at ``occurred_at``, stability from salience). Recall overrides it with a
``StrengthRow`` (``Store.save_strengths``); episodes and facts keep theirs by id. The formulas
are in ``engram.cognition.strength``.

Shape legend:
    n  events (rows);  r  rows asked about
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from engram.cognition import strength as curve
from engram.stores.base import StrengthRow, VectorBatch

__all__ = ["NO_EPISODE", "StrengthState", "state_of"]

NO_EPISODE = 1_000_000  # the position of a row no episode holds yet: no onset salience


@dataclass(slots=True)
class StrengthState:
    """Row-aligned strength of events, plus recalled episodes and facts by id."""

    formed: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [n] unix seconds
    last_access: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [n] unix seconds
    accesses: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # [n]
    recalled_stability: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [n] days, NaN: never recalled
    surprise: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [n] NaN: not yet known
    importance: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [n] NaN: not given
    copies: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # [n] copies of a first row
    first_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # [n] row of the first copy
    position: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # [n] place in its episode
    row_of: dict[str, int] = field(default_factory=dict)  # event id -> row
    others: dict[tuple[str, str], StrengthRow] = field(default_factory=dict)  # recalled episodes and facts
    version: int = 0  # the store's strength version these arrays reflect

    def add(self, batch: VectorBatch, first_of: np.ndarray) -> None:
        """Append the rows of ``batch``; ``first_of`` is each new row's first copy (a row index)."""
        n, start = len(batch.seqs), len(self.formed)
        self.formed = np.concatenate([self.formed, batch.occurred])
        self.last_access = np.concatenate([self.last_access, batch.occurred])
        self.accesses = np.concatenate([self.accesses, np.zeros(n, dtype=np.int64)])
        self.recalled_stability = np.concatenate([self.recalled_stability, np.full(n, np.nan)])
        self.surprise = np.concatenate([self.surprise, _column(batch.surprise, n)])
        self.importance = np.concatenate([self.importance, _column(batch.importance, n)])
        self.copies = np.concatenate([self.copies, np.zeros(n, dtype=np.int64)])
        self.first_of = np.concatenate([self.first_of, first_of])
        self.position = np.concatenate([self.position, np.full(n, NO_EPISODE, dtype=np.int64)])
        np.add.at(self.copies, first_of, 1)
        self.row_of.update((event_id, start + i) for i, event_id in enumerate(batch.ids))

    def set_positions(self, position: np.ndarray) -> None:
        """Each row's place in its episode (0 for the first; ``NO_EPISODE`` before segmentation)."""
        self.position = position.astype(np.int64)

    def unknown_surprise(self) -> np.ndarray:
        """Rows whose surprise segmentation had not yet decided when they were indexed."""
        return np.flatnonzero(np.isnan(self.surprise))

    def set_surprise(self, rows: np.ndarray, values: np.ndarray) -> None:
        self.surprise[rows] = values

    def apply(self, rows: Iterable[StrengthRow], version: int) -> None:
        """Take recalled states saved to the store (by this or another process)."""
        for row in rows:
            if row.kind != "event":
                self.others[(row.kind, row.id)] = row
            elif row.id in self.row_of:
                r = self.row_of[row.id]
                self.recalled_stability[r] = row.stability
                self.last_access[r] = row.last_access
                self.accesses[r] = row.accesses
        self.version = max(self.version, version)

    def recall_other(
        self, kind: str, item_id: str, formed: float, last_presented: float, salience: float, at: float
    ) -> StrengthRow | None:
        """The new state of an episode or fact recalled at ``at`` (None: ``at`` is before its
        last presentation), applied here too."""
        stability, last, accesses = state_of(self.others.get((kind, item_id)), formed, last_presented, salience)
        if at < last:
            return None
        found = curve.retention(stability, at - last)
        row = StrengthRow(kind, item_id, float(curve.stability_after_recall(stability, found)), at, accesses + 1)
        self.others[(kind, item_id)] = row
        return row

    def salience(self, rows: np.ndarray) -> np.ndarray:
        """[r] salience of events: surprise, importance, and how often the same words were said."""
        return curve.salience(
            self.surprise[rows],
            self.importance[rows],
            self.copies[self.first_of[rows]],
            curve.onset(self.position[rows]),
        )

    def stability(self, rows: np.ndarray) -> np.ndarray:
        """[r] stability in days: as recalled, or as formed (from salience)."""
        recalled = self.recalled_stability[rows]
        return np.where(np.isnan(recalled), curve.initial_stability(self.salience(rows)), recalled)

    def retention(self, rows: np.ndarray, at: float) -> np.ndarray:
        """[r] the forgetting curve at ``at`` (unix seconds)."""
        return curve.retention(self.stability(rows), at - self.last_access[rows])

    def activation(self, rows: np.ndarray, at: float) -> np.ndarray:
        """[r] ACT-R base-level activation at ``at``."""
        return curve.activation(self.formed[rows], self.last_access[rows], self.accesses[rows], self.salience(rows), at)

    def recall(self, rows: np.ndarray, ids: list[str], at: float) -> list[StrengthRow]:
        """New states of events recalled at ``at`` (testing effect), applied here too.

        A recall at a moment before the event's last presentation (a question asked "in the
        past") changes nothing."""
        later = self.last_access[rows] <= at
        rows, ids = rows[later], [i for i, keep in zip(ids, later.tolist(), strict=True) if keep]
        found = self.retention(rows, at)
        stability = curve.stability_after_recall(self.stability(rows), found)
        self.recalled_stability[rows] = stability
        self.last_access[rows] = at
        self.accesses[rows] += 1
        return [
            StrengthRow("event", event_id, float(s), at, int(n))
            for event_id, s, n in zip(ids, stability.tolist(), self.accesses[rows].tolist(), strict=True)
        ]


def state_of(
    recalled: StrengthRow | None, formed: float, last_presented: float, salience: float
) -> tuple[float, float, int]:
    """(stability, last access, accesses) of an episode or fact: as recalled, else as formed."""
    if recalled is not None:
        return recalled.stability, recalled.last_access, recalled.accesses
    return float(curve.initial_stability(salience)), last_presented, 0


def _column(values: np.ndarray, n: int) -> np.ndarray:
    return np.asarray(values, dtype=np.float64) if len(values) == n else np.full(n, np.nan)
