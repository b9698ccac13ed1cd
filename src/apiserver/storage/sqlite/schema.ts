// The SQLite layout, after k3s's kine: one append-only log table where the row id
// IS the store revision. A write appends a row (created/updated/deleted) pointing
// at the row it supersedes (prev_revision); reads take the newest row per name.
// Compaction deletes rows superseded at or below the compacted revision.
import type Database from 'better-sqlite3';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS kine (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value TEXT NOT NULL
);
-- newest row per name (get, list, count) is an index seek/scan, fast at 10,000+ keys
CREATE INDEX IF NOT EXISTS kine_name_id ON kine (name, id);
CREATE TABLE IF NOT EXISTS kine_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT OR IGNORE INTO kine_meta (key, value) VALUES ('compact_revision', 0);
`;

export interface LogRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

export function applyPragmas(db: Database.Database): void {
  // First, so even switching to WAL and creating the schema wait for a second process opening the same file.
  db.pragma('busy_timeout = 5000');
  // WAL: readers never block the writer, and a second process can read while we write.
  db.pragma('journal_mode = WAL');
  // NORMAL: a commit writes its WAL frames without an fsync, and the store
  // fsyncs the WAL itself, off the event loop, before it acknowledges the
  // commit (see sqlite-store.ts: "Durability"). NORMAL still syncs the WAL
  // before each checkpoint and the database file after it, so what a checkpoint
  // moved out of the WAL is on disk before the WAL is reused.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = OFF');
}
