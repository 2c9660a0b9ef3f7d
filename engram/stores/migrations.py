"""Numbered, named schema steps for the SQLite store, each applied in one transaction with its record."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "events, vectors and lexical index",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            namespace TEXT NOT NULL,
            text TEXT NOT NULL,
            speaker TEXT,
            session TEXT,
            occurred_at TEXT NOT NULL,
            occurred_ts REAL NOT NULL,
            recorded_at TEXT NOT NULL,
            metadata TEXT NOT NULL
        );
        CREATE INDEX events_namespace_time ON events (namespace, occurred_ts);
        CREATE INDEX events_namespace_session ON events (namespace, session);
        CREATE TABLE vectors (
            seq INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
            namespace TEXT NOT NULL,
            vector BLOB NOT NULL
        );
        CREATE INDEX vectors_namespace_seq ON vectors (namespace, seq);
        CREATE VIRTUAL TABLE events_fts USING fts5 (
            speaker, text, content = 'events', content_rowid = 'seq', tokenize = 'porter unicode61'
        );
        """,
    ),
    (
        2,
        "surprise, ingest-time index, episodes and segmentation state",
        """
        ALTER TABLE events ADD COLUMN surprise REAL;
        ALTER TABLE events ADD COLUMN recorded_ts REAL;
        UPDATE events SET recorded_ts = (julianday(recorded_at) - 2440587.5) * 86400.0;
        CREATE INDEX events_namespace_recorded ON events (namespace, recorded_ts);
        CREATE TABLE episodes (
            first_seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            namespace TEXT NOT NULL,
            last_seq INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            started_ts REAL NOT NULL,
            ended_at TEXT NOT NULL,
            ended_ts REAL NOT NULL,
            recorded_at TEXT NOT NULL,
            event_count INTEGER NOT NULL,
            first_event_id TEXT NOT NULL,
            last_event_id TEXT NOT NULL,
            participants TEXT NOT NULL,
            gist TEXT NOT NULL,
            boundary TEXT NOT NULL,
            closed INTEGER NOT NULL,
            centroid BLOB NOT NULL
        );
        CREATE INDEX episodes_namespace_time ON episodes (namespace, started_ts);
        CREATE TABLE segmenters (namespace TEXT PRIMARY KEY, seen_seq INTEGER NOT NULL, state BLOB NOT NULL)
        """,
    ),
    (
        3,
        "semantic memory: entities, facts, consolidation state and LLM usage",
        """
        CREATE TABLE entities (
            id TEXT PRIMARY KEY,
            namespace TEXT NOT NULL,
            name TEXT NOT NULL,
            aliases TEXT NOT NULL,
            type TEXT,
            mentions INTEGER NOT NULL,
            embedding BLOB
        );
        CREATE INDEX entities_namespace ON entities (namespace);
        CREATE TABLE facts (
            id TEXT PRIMARY KEY,
            namespace TEXT NOT NULL,
            subject TEXT NOT NULL,
            predicate TEXT NOT NULL,
            object TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            object_id TEXT,
            valid_from TEXT NOT NULL,
            valid_from_ts REAL NOT NULL,
            valid_to TEXT,
            valid_to_ts REAL,
            confidence REAL NOT NULL,
            sources TEXT NOT NULL,
            source_seqs TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            superseded_by TEXT,
            when_text TEXT,
            extractor TEXT NOT NULL,
            vector BLOB NOT NULL
        );
        CREATE INDEX facts_namespace_subject ON facts (namespace, subject_id);
        CREATE TABLE consolidation (namespace TEXT PRIMARY KEY, seen_seq INTEGER NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE llm_usage (
            id INTEGER PRIMARY KEY,
            namespace TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            extractor TEXT NOT NULL,
            events INTEGER NOT NULL,
            batches INTEGER NOT NULL,
            fallbacks INTEGER NOT NULL,
            calls INTEGER NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            total_tokens INTEGER NOT NULL
        )
        """,
    ),
    (
        4,
        "memory strength: explicit importance of events, strength state of recalled memories",
        """
        ALTER TABLE events ADD COLUMN importance REAL;
        CREATE TABLE strength (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            namespace TEXT NOT NULL,
            stability REAL NOT NULL,
            last_access_ts REAL NOT NULL,
            accesses INTEGER NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (kind, id)
        );
        CREATE INDEX strength_namespace_version ON strength (namespace, version)
        """,
    ),
]


def migrate(db: sqlite3.Connection) -> list[int]:
    """Apply every migration not yet recorded; return the versions applied now."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS migrations"
        " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = []
    for version, name, sql in MIGRATIONS:
        db.execute("BEGIN IMMEDIATE")  # re-checked under the write lock: another process may have migrated
        try:
            if db.execute("SELECT 1 FROM migrations WHERE version = ?", (version,)).fetchone():
                db.execute("COMMIT")
                continue
            for statement in filter(str.strip, sql.split(";")):
                db.execute(statement)
            db.execute(
                "INSERT INTO migrations VALUES (?, ?, ?)",
                (version, name, datetime.now(timezone.utc).isoformat()),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied
