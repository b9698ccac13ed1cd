// The cluster's storage contract: a revisioned key/value log in the shape of
// etcd v3, which is what the Kubernetes API server needs (resourceVersion = store
// revision, watch from a revision, list at a revision, compaction → 410 Gone).
// Two backends implement it and pass one shared suite (test/cluster-storage):
// SQLite embedded (a kine-like log, the single-server default) and etcd v3 (HA);
// open-store.ts picks one.
import { TugError } from '../../errdefs.js';

export interface KeyValue {
  key: string;
  /** JSON text. */
  value: string;
  createRevision: number;
  modRevision: number;
}

export type WatchEvent =
  | { type: 'PUT'; kv: KeyValue; prevKv?: KeyValue; revision: number }
  /** kv is the deleted object as last stored, with modRevision = the delete's revision. */
  | { type: 'DELETE'; kv: KeyValue; revision: number }
  /** Every event with revision <= this one has been delivered to this watcher. */
  | { type: 'BOOKMARK'; revision: number };

export interface ListResult {
  items: KeyValue[];
  /** The store revision the list is consistent at (pass it back as opts.revision for the next page). */
  revision: number;
  more: boolean;
  /** Items left after this page, when the backend knows it cheaply. */
  remaining?: number;
}

export interface ListOptions {
  limit?: number;
  /** Continue key: only items with key > startAfter. */
  startAfter?: string;
  /** Consistent read at an older revision; gone() if compacted. 0/undefined = latest. */
  revision?: number;
}

export interface Store {
  get(key: string): Promise<KeyValue | null>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  count(prefix: string): Promise<number>;
  /** alreadyExists() if the key is present. */
  create(key: string, value: string): Promise<KeyValue>;
  /** conflict() if the stored modRevision differs; notFound() if absent. */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /** Returns the deleted kv (modRevision = the delete's revision, as in the DELETE watch event); conflict()/notFound(). */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /**
   * Delivers events with revision > fromRevision (0 = from now) in revision order,
   * none lost, none duplicated, plus a BOOKMARK every 5 s. onError gets gone() when
   * fromRevision is below the compacted revision; after onError no more events
   * arrive. Returns a cancel function.
   */
  watch(prefix: string, fromRevision: number, onEvent: (e: WatchEvent) => void, onError: (err: Error) => void): () => void;
  currentRevision(): Promise<number>;
  /** Makes revisions below `revision` unavailable to list/watch (idempotent). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

export function gone(message: string, detail?: Record<string, unknown>): TugError {
  return new TugError('gone', message, detail);
}
