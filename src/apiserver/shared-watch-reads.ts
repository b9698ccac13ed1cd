// One decode of a stored object for every watcher that only reads it. A write
// to a watched prefix reaches each watcher as its own event (etcd sends it once
// per watch, SQLite's channels each get it), and every watcher used to parse
// the same JSON again. Watchers that promise not to change what they are handed
// (the HTTP watch, which only serializes it) share the object decoded by the
// first of them. The key is the stored key, the write's revision and the type
// the object is shown as: a revision names exactly one value of a key, so a
// shared object is never staler than the event that carries it.
import type { KObject, ResourceType } from '../kube/api/resource-type.js';
import type { KeyValue } from './storage/store.js';

/** Recent decodes kept: many more than the writes of one event-loop turn fanned out to all watchers. */
const KEEP = 512;

export class SharedWatchReads {
  private readonly recent = new Map<string, KObject>();
  /** Distinguishes ResourceTypes (the same key read through two served versions gives two objects). */
  private readonly typeIds = new WeakMap<ResourceType, number>();
  private nextTypeId = 0;

  /** The object for `kv` as `t` shows it, decoded by `read` only if no watcher decoded it yet. Callers must not change it. */
  get(t: ResourceType, kv: KeyValue, read: (t: ResourceType, kv: KeyValue) => KObject): KObject {
    let id = this.typeIds.get(t);
    if (id === undefined) this.typeIds.set(t, (id = this.nextTypeId++));
    const k = `${id}\0${kv.modRevision}\0${kv.key}`;
    let o = this.recent.get(k);
    if (!o) {
      o = read(t, kv);
      this.recent.set(k, o);
      if (this.recent.size > KEEP) this.recent.delete(this.recent.keys().next().value!);
    }
    return o;
  }
}

/** Each shared object's watch lines, by event type: serialized once for every HTTP watcher sent it. */
const lines = new WeakMap<KObject, Map<string, string>>();

/** `{"type":…,"object":…}\n` for a watch stream; a shared object is serialized only once per event type. */
export function watchLine(type: string, object: KObject): string {
  let byType = lines.get(object);
  if (!byType) lines.set(object, (byType = new Map()));
  let line = byType.get(type);
  if (line === undefined) byType.set(type, (line = JSON.stringify({ type, object }) + '\n'));
  return line;
}
