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
