"""The default store: one SQLite database in WAL mode, FTS5 for lexical search.

Events and their vectors are written in one transaction with ``synchronous=FULL``, so an
acknowledged write survives a process or power crash. ``sqlite3`` errors are translated to
``StoreError`` here, once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np

from engram.core.records import Entity, Episode, Event, Fact, utcnow
from engram.errors import ModelMismatch, NotFound, StoreError
from engram.stores.base import (
    USAGE_FIELDS,
    EpisodeRow,
    Erasure,
    FactRow,
    Filter,
    StrengthRow,
    Usage,
    VectorBatch,
    index_text,
)
from engram.stores.erasure import plan
from engram.stores.migrations import migrate

__all__ = ["SQLiteStore"]

DB_NAME = "engram.db"
_EVENT_COLUMNS = "seq, id, namespace, text, speaker, session, occurred_at, recorded_at, metadata, surprise, importance"
# A store whose every connection deleted securely from its start has no old rows in free pages;
# one written before (by an older version, with an SQLite built without secure deletion) is
# vacuumed by its first erasure. A store with no events yet is clean from now on.
_CLEAN_KEY = "secure_delete_since"
_MARK_CLEAN = f"INSERT OR IGNORE INTO meta SELECT '{_CLEAN_KEY}', ? WHERE NOT EXISTS (SELECT 1 FROM events)"
_EPISODE_COLUMNS = (
    "first_seq, last_seq, id, namespace, started_at, ended_at, recorded_at, event_count, first_event_id,"
    " last_event_id, participants, gist, boundary, closed, centroid"
)


def _row_event(row: tuple) -> Event:
    return Event(
        id=row[1],
        namespace=row[2],
        text=row[3],
        speaker=row[4],
        session=row[5],
        occurred_at=datetime.fromisoformat(row[6]),
        recorded_at=datetime.fromisoformat(row[7]),
        metadata=json.loads(row[8]),
        surprise=row[9],
        importance=row[10],
    )


def _row_episode(row: tuple) -> EpisodeRow:
    episode = Episode(
        id=row[2],
        namespace=row[3],
        started_at=datetime.fromisoformat(row[4]),
        ended_at=datetime.fromisoformat(row[5]),
        recorded_at=datetime.fromisoformat(row[6]),
        event_count=row[7],
        first_event_id=row[8],
        last_event_id=row[9],
        participants=tuple(json.loads(row[10])),
        gist=row[11],
        boundary=row[12],
        closed=bool(row[13]),
    )
    return EpisodeRow(episode, first_seq=row[0], last_seq=row[1], centroid=np.frombuffer(row[14], dtype=np.float32))


def _episode_values(row: EpisodeRow) -> tuple:
    e = row.episode
    return (
        row.first_seq,
        row.last_seq,
        e.id,
        e.namespace,
        e.started_at.isoformat(),
        e.ended_at.isoformat(),
        e.recorded_at.isoformat(),
        e.event_count,
        e.first_event_id,
        e.last_event_id,
        json.dumps(list(e.participants), ensure_ascii=False),
        e.gist,
        e.boundary,
        int(e.closed),
        np.ascontiguousarray(row.centroid, dtype=np.float32).tobytes(),
        e.started_at.timestamp(),
        e.ended_at.timestamp(),
    )


_ENTITY_COLUMNS = "id, namespace, name, aliases, type, mentions, embedding"
_FACT_COLUMNS = (
    "id, namespace, subject, predicate, object, subject_id, object_id, valid_from, valid_to, confidence, sources,"
    " recorded_at, superseded_by, when_text, extractor, source_seqs, vector, valid_from_ts, valid_to_ts"
)


def _row_entity(row: tuple) -> Entity:
    vector = np.frombuffer(row[6], dtype=np.float32) if row[6] is not None else None
    return Entity(row[0], row[1], row[2], tuple(json.loads(row[3])), row[4], int(row[5]), vector)


def _entity_values(e: Entity) -> tuple:
    vector = None if e.embedding is None else np.ascontiguousarray(e.embedding, dtype=np.float32).tobytes()
    return (e.id, e.namespace, e.name, json.dumps(list(e.aliases), ensure_ascii=False), e.type, e.mentions, vector)


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _row_fact(row: tuple) -> FactRow:
    fact = Fact(
        id=row[0],
        namespace=row[1],
        subject=row[2],
        predicate=row[3],
        object=row[4],
        subject_id=row[5],
        object_id=row[6],
        valid_from=datetime.fromisoformat(row[7]),
        valid_to=_moment(row[8]),
        confidence=float(row[9]),
        sources=tuple(json.loads(row[10])),
        recorded_at=datetime.fromisoformat(row[11]),
        superseded_by=row[12],
        when=row[13],
        extractor=row[14],
    )
    return FactRow(fact, tuple(json.loads(row[15])), np.frombuffer(row[16], dtype=np.float32))


def _fact_values(row: FactRow) -> tuple:
    f = row.fact
    return (
        f.id,
        f.namespace,
        f.subject,
        f.predicate,
        f.object,
        f.subject_id,
        f.object_id,
        f.valid_from.isoformat(),
        None if f.valid_to is None else f.valid_to.isoformat(),
        f.confidence,
        json.dumps(list(f.sources)),
        f.recorded_at.isoformat(),
        f.superseded_by,
        f.when,
        f.extractor,
        json.dumps(list(row.source_seqs)),
        np.ascontiguousarray(row.vector, dtype=np.float32).tobytes(),
        f.valid_from.timestamp(),
        None if f.valid_to is None else f.valid_to.timestamp(),
    )


def _fts_query(terms: Sequence[str]) -> str:
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _where(flt: Filter, alias: str = "e") -> tuple[str, list]:
    clauses: list[str] = []
    params: list[object] = []
    if flt.session is not None:
        clauses.append(f"{alias}.session = ?")
        params.append(flt.session)
    if flt.since is not None:
        clauses.append(f"{alias}.occurred_ts >= ?")
        params.append(flt.since.timestamp())
    if flt.until is not None:
        clauses.append(f"{alias}.occurred_ts < ?")
        params.append(flt.until.timestamp())
    if flt.recorded_since is not None:
        clauses.append(f"{alias}.recorded_ts >= ?")
        params.append(flt.recorded_since.timestamp())
    if flt.recorded_until is not None:
        clauses.append(f"{alias}.recorded_ts < ?")
        params.append(flt.recorded_until.timestamp())
    return "".join(" AND " + c for c in clauses), params


class SQLiteStore:
    """Events, vectors and FTS5 index in ``<directory>/engram.db``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME
        self._lock = threading.RLock()
        with self._translate():
            self.directory.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA secure_delete=ON")  # freed content is zeroed, so erasure leaves no copy
            migrate(self._db)
            if not self._is_clean():
                self._db.execute(_MARK_CLEAN, (utcnow().isoformat(),))

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite store at {self.path}: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"cannot open store at {self.directory}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._translate():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock, self._translate():
            return self._db.execute(sql, params).fetchall()

    def bind_model(self, name: str, dim: int) -> None:
        with self._transaction() as db:
            rows = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('model', 'dim')").fetchall())
            if not rows:
                db.executemany("INSERT INTO meta VALUES (?, ?)", [("model", name), ("dim", str(dim))])
                return
        if rows.get("model") != name or rows.get("dim") != str(dim):
            raise ModelMismatch(
                f"store {self.path} was built with embedding model {rows.get('model')!r} ({rows.get('dim')}-d); "
                f"refusing to mix in vectors from {name!r} ({dim}-d). Open it with the same model, "
                "or re-embed into a new store."
            )

    def add(self, events: Sequence[Event], vectors: np.ndarray) -> list[int]:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._transaction() as db:
            seqs = []
            for event, vector in zip(events, vectors, strict=True):
                cursor = db.execute(
                    "INSERT INTO events (id, namespace, text, speaker, session, occurred_at, occurred_ts,"
                    " recorded_at, recorded_ts, metadata, surprise, importance)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        event.id,
                        event.namespace,
                        event.text,
                        event.speaker,
                        event.session,
                        event.occurred_at.isoformat(),
                        event.occurred_at.timestamp(),
                        event.recorded_at.isoformat(),
                        event.recorded_at.timestamp(),
                        json.dumps(event.metadata, ensure_ascii=False, sort_keys=True),
                        event.surprise,
                        event.importance,
                    ),
                )
                seq = int(cursor.lastrowid)  # type: ignore[arg-type]
                seqs.append(seq)
                db.execute("INSERT INTO vectors VALUES (?, ?, ?)", (seq, event.namespace, vector.tobytes()))
                db.execute(
                    "INSERT INTO events_fts (rowid, speaker, text) VALUES (?, ?, ?)",
                    (seq, event.speaker or "", event.text),
                )
        return seqs

    def events(self, seqs: Sequence[int]) -> list[Event]:
        found: dict[int, Event] = {}
        for start in range(0, len(seqs), 500):
            chunk = list(seqs[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for row in self._query(f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq IN ({marks})", chunk):
                found[row[0]] = _row_event(row)
        return [found[s] for s in seqs if s in found]

    def get(self, event_id: str) -> Event:
        rows = self._query(f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,))
        if not rows:
            raise NotFound(f"no event with id {event_id!r}")
        return _row_event(rows[0])

    def lexical(self, namespace: str, terms: Sequence[str], k: int, where: Filter) -> list[tuple[int, float]]:
        if not terms:
            return []
        extra, params = _where(where)
        sql = (
            "SELECT e.seq, -bm25(events_fts) AS score FROM events_fts JOIN events e ON e.seq = events_fts.rowid"
            f" WHERE events_fts MATCH ? AND e.namespace = ?{extra} ORDER BY bm25(events_fts) LIMIT ?"
        )
        return [(int(s), float(score)) for s, score in self._query(sql, [_fts_query(terms), namespace, *params, k])]

    def vectors(self, namespace: str, after_seq: int = 0) -> VectorBatch:
        rows = self._query(
            "SELECT v.seq, v.vector, e.occurred_ts, e.session, e.speaker, e.text, e.recorded_ts, e.surprise,"
            " e.importance, e.id"
            " FROM vectors v JOIN events e ON e.seq = v.seq"
            " WHERE v.namespace = ? AND v.seq > ? ORDER BY v.seq",
            (namespace, after_seq),
        )
        dim = len(rows[0][1]) // 4 if rows else 0
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim)
        return VectorBatch(
            seqs=np.array([r[0] for r in rows], dtype=np.int64),
            vectors=matrix,
            occurred=np.array([r[2] for r in rows], dtype=np.float64),
            sessions=[r[3] for r in rows],
            texts=[index_text(r[4], r[5]) for r in rows],
            recorded=np.array([r[6] for r in rows], dtype=np.float64),
            speakers=[r[4] for r in rows],
            surprise=np.array([np.nan if r[7] is None else r[7] for r in rows], dtype=np.float64),
            importance=np.array([np.nan if r[8] is None else r[8] for r in rows], dtype=np.float64),
            ids=[r[9] for r in rows],
        )

    def seqs(self, namespace: str, after_seq: int = 0) -> list[int]:
        sql = "SELECT seq FROM vectors WHERE namespace = ? AND seq > ? ORDER BY seq"
        return [int(row[0]) for row in self._query(sql, (namespace, after_seq))]

    def last_seq(self, namespace: str) -> int:
        return int(self._query("SELECT COALESCE(MAX(seq), 0) FROM vectors WHERE namespace = ?", (namespace,))[0][0])

    def segmentation_state(self, namespace: str, *, unless_seen: int | None = None) -> tuple[int, bytes | None]:
        rows = self._query("SELECT seen_seq FROM segmenters WHERE namespace = ?", (namespace,))
        if not rows:
            return 0, None
        seen = int(rows[0][0])
        if seen == unless_seen:
            return seen, None
        state = self._query("SELECT state FROM segmenters WHERE namespace = ? AND seen_seq = ?", (namespace, seen))
        return (seen, bytes(state[0][0])) if state else self.segmentation_state(namespace)  # moved on meanwhile

    def save_segmentation(
        self,
        namespace: str,
        *,
        seen_seq: int,
        new_seq: int,
        state: bytes | None,
        surprise: Sequence[tuple[int, float]],
        episodes: Sequence[EpisodeRow],
    ) -> bool:
        with self._transaction() as db:
            row = db.execute("SELECT seen_seq FROM segmenters WHERE namespace = ?", (namespace,)).fetchone()
            if (int(row[0]) if row else 0) != seen_seq:
                return False
            if state is None and row is None:
                raise StoreError(f"the first segmentation save of namespace {namespace!r} must carry a state")
            if state is None:
                db.execute("UPDATE segmenters SET seen_seq = ? WHERE namespace = ?", (new_seq, namespace))
            else:
                db.execute(
                    "INSERT INTO segmenters VALUES (?, ?, ?) ON CONFLICT (namespace)"
                    " DO UPDATE SET seen_seq = excluded.seen_seq, state = excluded.state",
                    (namespace, new_seq, state),
                )
            db.executemany("UPDATE events SET surprise = ? WHERE seq = ?", [(v, s) for s, v in surprise])
            db.executemany(
                f"INSERT OR REPLACE INTO episodes ({_EPISODE_COLUMNS}, started_ts, ended_ts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_episode_values(e) for e in episodes],
            )
        return True

    def episodes(
        self, namespace: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[EpisodeRow]:
        sql = f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE namespace = ?"
        params: list[object] = [namespace]
        if since is not None:
            sql += " AND ended_ts >= ?"
            params.append(since.timestamp())
        if until is not None:
            sql += " AND started_ts < ?"
            params.append(until.timestamp())
        return [_row_episode(row) for row in self._query(sql + " ORDER BY first_seq", params)]

    def consolidation_state(self, namespace: str) -> int:
        rows = self._query("SELECT seen_seq FROM consolidation WHERE namespace = ?", (namespace,))
        return int(rows[0][0]) if rows else 0

    def save_consolidation(
        self,
        namespace: str,
        *,
        seen_seq: int,
        new_seq: int,
        entities: Sequence[Entity],
        facts: Sequence[FactRow],
        usage: Usage | None = None,
    ) -> bool:
        now = utcnow().isoformat()
        with self._transaction() as db:
            row = db.execute("SELECT seen_seq FROM consolidation WHERE namespace = ?", (namespace,)).fetchone()
            if (int(row[0]) if row else 0) != seen_seq:
                return False
            db.execute(
                "INSERT INTO consolidation VALUES (?, ?, ?) ON CONFLICT (namespace)"
                " DO UPDATE SET seen_seq = excluded.seen_seq, updated_at = excluded.updated_at",
                (namespace, new_seq, now),
            )
            db.executemany(
                f"INSERT OR REPLACE INTO entities ({_ENTITY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_entity_values(e) for e in entities],
            )
            db.executemany(
                f"INSERT OR REPLACE INTO facts ({_FACT_COLUMNS}) VALUES ({', '.join('?' * 19)})",
                [_fact_values(f) for f in facts],
            )
            if usage is not None:
                db.execute(
                    f"INSERT INTO llm_usage (namespace, recorded_at, extractor, {', '.join(USAGE_FIELDS)})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (namespace, now, usage.extractor, *(getattr(usage, name) for name in USAGE_FIELDS)),
                )
        return True

    def entities(self, namespace: str) -> list[Entity]:
        sql = f"SELECT {_ENTITY_COLUMNS} FROM entities WHERE namespace = ? ORDER BY rowid"
        return [_row_entity(row) for row in self._query(sql, (namespace,))]

    def facts(self, namespace: str) -> list[FactRow]:
        sql = f"SELECT {_FACT_COLUMNS} FROM facts WHERE namespace = ? ORDER BY recorded_at, id"
        return [_row_fact(row) for row in self._query(sql, (namespace,))]

    def strengths(self, namespace: str, after_version: int = 0) -> tuple[int, list[StrengthRow]]:
        rows = self._query(
            "SELECT kind, id, stability, last_access_ts, accesses, version FROM strength"
            " WHERE namespace = ? AND version > ? ORDER BY version",
            (namespace, after_version),
        )
        version = max([after_version, *(int(r[5]) for r in rows)])
        return version, [StrengthRow(r[0], r[1], float(r[2]), float(r[3]), int(r[4])) for r in rows]

    def save_strengths(self, namespace: str, rows: Sequence[StrengthRow]) -> None:
        if not rows:
            return
        # Strength is what recall learns, not what the caller wrote: it need not wait for the
        # disk (synchronous=NORMAL keeps it safe from a process crash; power loss may lose the
        # last few). Events and everything else stay synchronous=FULL.
        with self._lock:  # held throughout: no other write of this connection runs at NORMAL
            with self._translate():
                self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._save_strengths(namespace, rows)
            finally:
                with self._translate():
                    self._db.execute("PRAGMA synchronous=FULL")

    def _save_strengths(self, namespace: str, rows: Sequence[StrengthRow]) -> None:
        with self._transaction() as db:
            # Versions count per namespace (``strengths`` reads them per namespace); the index on
            # (namespace, version) answers this without scanning the table on every recall.
            sql = "SELECT COALESCE(MAX(version), 0) + 1 FROM strength WHERE namespace = ?"
            version = int(db.execute(sql, (namespace,)).fetchone()[0])
            db.executemany(
                "INSERT INTO strength VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET"
                " stability = excluded.stability, last_access_ts = excluded.last_access_ts,"
                " accesses = excluded.accesses, version = excluded.version",
                [(r.kind, r.id, namespace, r.stability, r.last_access, r.accesses, version) for r in rows],
            )

    def usage(self) -> dict[str, int]:
        sums = ", ".join(f"COALESCE(SUM({name}), 0)" for name in USAGE_FIELDS)
        return dict(zip(USAGE_FIELDS, map(int, self._query(f"SELECT {sums} FROM llm_usage")[0]), strict=True))

    def stats(self) -> dict[str, object]:
        counts = dict(self._query("SELECT namespace, COUNT(*) FROM events GROUP BY namespace ORDER BY namespace"))
        episodes = self._query("SELECT COUNT(*) FROM episodes")[0][0]
        facts, current = self._query("SELECT COUNT(*), COUNT(*) - COUNT(valid_to) FROM facts")[0]
        entities = self._query("SELECT COUNT(*) FROM entities")[0][0]
        meta = dict(self._query("SELECT key, value FROM meta"))
        files = [self.path, self.path.with_name(DB_NAME + "-wal"), self.path.with_name(DB_NAME + "-shm")]
        return {
            "backend": "sqlite",
            "path": str(self.path),
            "events": sum(counts.values()),
            "episodes": int(episodes),
            "entities": int(entities),
            "facts": int(facts),
            "current_facts": int(current),
            "llm_usage": self.usage(),
            "namespaces": counts,
            "model": meta.get("model"),
            "dim": int(meta["dim"]) if "dim" in meta else None,
            "bytes": sum(f.stat().st_size for f in files if f.exists()),
        }

    def erasures(self, namespace: str) -> int:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (_erasure_key(namespace),))
        return int(rows[0][0]) if rows else 0

    def erase(self, namespace: str, event_ids: Sequence[str] | None) -> Erasure:
        with self._transaction() as db:
            erasure = self._plan_erasure(namespace, event_ids)
            changes = db.total_changes
            if erasure.seqs or erasure.whole:
                self._apply_erasure(db, erasure)
            if db.total_changes == changes:
                return erasure
            db.execute(
                "INSERT INTO meta VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                (_erasure_key(namespace),),
            )
        return dataclasses.replace(erasure, scrubbed=self._scrub())

    def _plan_erasure(self, namespace: str, event_ids: Sequence[str] | None) -> Erasure:
        """What erasing ``event_ids`` (``None``: all) of ``namespace`` removes, read inside the transaction."""
        if event_ids is None:
            targets = self._query("SELECT seq, id FROM events WHERE namespace = ?", (namespace,))
        else:
            targets = []
            for start in range(0, len(event_ids), 500):
                chunk = list(event_ids[start : start + 500])
                sql = f"SELECT seq, id FROM events WHERE namespace = ? AND id IN ({','.join('?' * len(chunk))})"
                targets += self._query(sql, [namespace, *chunk])
            if not targets:
                return Erasure(namespace)
        reflections = [] if event_ids is None else self._reflections(namespace)
        episodes = self._query("SELECT COUNT(*) FROM episodes WHERE namespace = ?", (namespace,))[0][0]
        return plan(
            namespace,
            dict(targets),
            reflections,
            self.facts(namespace),
            self.entities(namespace),
            whole=event_ids is None,
            episodes=int(episodes),
        )

    def _reflections(self, namespace: str) -> list[tuple[int, Event]]:
        sql = (
            f"SELECT {_EVENT_COLUMNS} FROM events"
            " WHERE namespace = ? AND json_extract(metadata, '$.kind') = 'reflection' ORDER BY seq"
        )
        return [(int(row[0]), _row_event(row)) for row in self._query(sql, (namespace,))]

    def _apply_erasure(self, db: sqlite3.Connection, erasure: Erasure) -> None:
        namespace = erasure.namespace
        for where, params in _erased_rows(erasure):
            # FTS5 over external content forgets a row only when told its indexed values
            db.execute(
                "INSERT INTO events_fts (events_fts, rowid, speaker, text)"
                f" SELECT 'delete', seq, COALESCE(speaker, ''), text FROM events WHERE {where}",
                params,
            )
            db.execute(f"DELETE FROM vectors WHERE {where}", params)
            db.execute(f"DELETE FROM events WHERE {where}", params)
        db.executemany(
            "UPDATE events SET metadata = ? WHERE seq = ?",
            [(json.dumps(meta, ensure_ascii=False, sort_keys=True), seq) for seq, meta in erasure.relinked],
        )
        db.executemany("DELETE FROM facts WHERE id = ?", [(i,) for i in erasure.facts_deleted])
        db.executemany(
            f"INSERT OR REPLACE INTO facts ({_FACT_COLUMNS}) VALUES ({', '.join('?' * 19)})",
            [_fact_values(row) for row in erasure.facts_updated],
        )
        db.executemany("DELETE FROM entities WHERE id = ?", [(i,) for i in erasure.entities_deleted])
        # the strength of what is gone: erased events, deleted facts, episodes that began with an erased event
        db.executemany(
            "DELETE FROM strength WHERE kind = ? AND id = ?",
            [("event", i) for i in erasure.ids] + [("fact", i) for i in erasure.facts_deleted],
        )
        db.executemany(
            "DELETE FROM strength WHERE kind = 'episode' AND id IN (SELECT id FROM episodes WHERE first_event_id = ?)",
            [(i,) for i in erasure.ids],
        )
        tables = ("episodes", "segmenters", "entities", "facts", "consolidation", "llm_usage", "strength")
        for table in tables if erasure.whole else tables[:2]:
            db.execute(f"DELETE FROM {table} WHERE namespace = ?", (namespace,))
        # SQLite hands the highest erased seq to the next event stored: a checkpoint left there
        # would skip that event. Back to the last surviving event it covered, which changes nothing else.
        db.execute(
            "UPDATE consolidation SET seen_seq = (SELECT COALESCE(MAX(seq), 0) FROM events"
            " WHERE namespace = ?1 AND seq <= consolidation.seen_seq) WHERE namespace = ?1",
            (namespace,),
        )
        if erasure.seqs:
            # a deleted row's terms stay in older index segments until they are merged
            db.execute("INSERT INTO events_fts (events_fts) VALUES ('optimize')")

    def _scrub(self) -> bool:
        """Leave no copy of erased rows in the files; True when the write-ahead log could be emptied.

        Freed pages are zeroed as rows are deleted (``secure_delete``); a store written before
        that was on is vacuumed once. The WAL still holds earlier versions of every changed page
        until it is checkpointed and truncated, which waits for other connections' reads.
        """
        with self._lock, self._translate():
            if not self._is_clean():
                self._db.execute("VACUUM")
                self._db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (_CLEAN_KEY, utcnow().isoformat()))
            busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy == 0

    def _is_clean(self) -> bool:
        return self._db.execute("SELECT 1 FROM meta WHERE key = ?", (_CLEAN_KEY,)).fetchone() is not None

    def close(self) -> None:
        with self._lock, self._translate():
            self._db.close()


def _erasure_key(namespace: str) -> str:
    """The ``meta`` key counting a namespace's erasures; a digest, so an erased name is not kept."""
    return "erased:" + hashlib.sha1(namespace.encode()).hexdigest()[:20]


def _erased_rows(erasure: Erasure) -> Iterator[tuple[str, Sequence[object]]]:
    """WHERE clauses (with parameters) that select the erased events, in batches."""
    if erasure.whole:
        yield "namespace = ?", [erasure.namespace]
        return
    for start in range(0, len(erasure.seqs), 500):
        chunk = list(erasure.seqs[start : start + 500])
        yield f"seq IN ({','.join('?' * len(chunk))})", chunk
