// One etcd watch per key prefix, fanned out in the server to every watcher of
// that prefix (kube-apiserver's watch cache does the same). With a watch per
// watcher, etcd sent each write once per watcher and the server decoded each
// copy (protobuf, a Buffer to string per key and value, int64s): with 50 node
// agents watching pods, 50 decodes of every pod write. Now each write is
// received and decoded once and the same WatchEvent is pushed to every member.
//
// A watcher joins when the events it still needs are all here: the recent
// events (the last KEEP_EVENTS) cover every revision after `replayableFrom`, so
// one that asks for revision R >= replayableFrom is handed those after R and
// then the live ones, in order. A watcher from an older revision first gets its
// own etcd watch (which is also how a compacted revision still gets etcd's
// answer, 410 Gone) and moves here once it has caught up (etcd-store.ts).
import type { WatchEvent } from '../store.js';
import type { WatchChannel } from '../watch-channel.js';

/** Recent events kept for watchers that join from a revision a little behind (a list, then a watch). */
export const KEEP_EVENTS = 1024;

export class SharedPrefixWatch {
  private readonly members = new Set<WatchChannel>();
  /** Watchers on their own etcd watch that will join once caught up: they keep this open. */
  private catchingUp = 0;
  /** Events with revision > replayableFrom, in revision order (the oldest dropped past KEEP_EVENTS). */
  private recent: WatchEvent[] = [];
  private replayFrom: number;
  /** Every event with revision <= position has been received. */
  private at: number;
  private closed = false;
  private stopWatch: () => void = () => undefined;

  constructor(
    /** The revision after which the etcd watch delivers (every completed write of the store is at or below it). */
    start: number,
    private readonly onClose: (w: SharedPrefixWatch) => void,
  ) {
    this.replayFrom = start;
    this.at = start;
  }

  /** The etcd watch's cancel function, once it is opened. */
  set cancel(stop: () => void) {
    this.stopWatch = stop;
  }

  /** Every event after this revision can be handed to a joining watcher. */
  get replayableFrom(): number {
    return this.replayFrom;
  }

  get position(): number {
    return this.at;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether a watcher that has everything up to `revision` can join now. */
  canServe(revision: number): boolean {
    return !this.closed && revision >= this.replayFrom;
  }

  /** Adds a watcher whose events after ch.position are all still here (canServe); they are pushed at once. */
  join(ch: WatchChannel): void {
    const from = ch.position;
    // Binary search: the recent events are in revision order.
    let lo = 0;
    let hi = this.recent.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.recent[mid].revision <= from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.recent.length; i++) ch.push(this.recent[i]);
    ch.advance(this.at);
    this.members.add(ch);
  }

  leave(ch: WatchChannel): void {
    if (this.members.delete(ch)) this.closeIfUnused();
  }

  /** A watcher on its own etcd watch that will join later keeps this watch open meanwhile. */
  holdForCatchUp(): () => void {
    this.catchingUp++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.catchingUp--;
      this.closeIfUnused();
    };
  }

  /** Events of one etcd watch response, in revision order. */
  deliver(events: WatchEvent[]): void {
    if (this.closed) return;
    for (const e of events) {
      if (e.revision <= this.at) continue;
      this.at = e.revision;
      this.recent.push(e);
    }
    // Trimmed in steps, so dropping the oldest is not a copy per event.
    if (this.recent.length > KEEP_EVENTS * 2) {
      const drop = this.recent.length - KEEP_EVENTS;
      this.replayFrom = this.recent[drop - 1].revision;
      this.recent = this.recent.slice(drop);
    }
    for (const ch of this.members) for (const e of events) ch.push(e);
  }

  /** Everything up to `revision` has been received (etcd's progress notification, or a watch created "now"). */
  progress(revision: number): void {
    if (this.closed || revision <= this.at) return;
    this.at = revision;
    for (const ch of this.members) ch.advance(revision);
  }

  /** The etcd watch ended (canceled by etcd, or the stream could not be re-established): every member ends with err. */
  fail(err: Error): void {
    if (this.closed) return;
    this.close();
    for (const ch of [...this.members]) ch.fail(err);
    this.members.clear();
  }

  private closeIfUnused(): void {
    if (this.members.size === 0 && this.catchingUp === 0) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.recent = [];
    this.stopWatch();
    this.onClose(this);
  }
}
