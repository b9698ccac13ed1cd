// Live Kubernetes lists for the views: list, then watch from the list's
// resourceVersion and apply ADDED/MODIFIED/DELETED to the items in hand (as an
// informer does); a 410 Gone or a dropped watch lists again. A 403 is kept as
// the view's error, so a user without the right sees why, not an empty table.
import { useEffect, useState } from 'preact/hooks';
import { get, streamJson, ApiError } from './api.js';
import type { LiveList } from './engine-live.js';
import { SortedItems, oncePerFrame } from './sorted-items.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; creationTimestamp?: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  spec?: any;
  status?: any;
  [k: string]: any;
}

export const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** What stays with an object while it changes: its uid (namespace/name for an object without one). */
export const uidOf = (o: KubeObject): string => o.metadata.uid ?? keyOf(o);

const collator = new Intl.Collator();
/** The lists' default order: namespace/name, as kubectl lists them. */
export const byKey = (a: KubeObject, b: KubeObject): number => collator.compare(keyOf(a), keyOf(b));

/**
 * Lists and watches path (e.g. /api/v1/pods): path is the collection under
 * /api/kube; items come in order (namespace/name unless told otherwise).
 */
export function useKubeList(path: string | undefined, order: (a: KubeObject, b: KubeObject) => number = byKey): LiveList<KubeObject> {
  const [state, setState] = useState<LiveList<KubeObject>>({ items: [], loaded: false });
  useEffect(() => {
    if (!path) return;
    const ctl = new AbortController();
    const items = new SortedItems<KubeObject>(uidOf, order);
    const publish = (): void => setState({ items: items.items(), loaded: true });
    // Each event moves one object to its place; a burst of them (a node going NotReady modifies every
    // pod on it) becomes one render in the next frame, not one per event.
    const batch = oncePerFrame(publish);
    ctl.signal.addEventListener('abort', batch.cancel);
    const sep = path.includes('?') ? '&' : '?';
    void (async () => {
      while (!ctl.signal.aborted) {
        try {
          const list = await get<{ metadata: { resourceVersion: string }; items: KubeObject[] }>(`/api/kube${path}`);
          items.reset(list.items);
          publish();
          let rv = list.metadata.resourceVersion;
          let gone = false;
          while (!ctl.signal.aborted && !gone) {
            await streamJson(
              `/api/kube${path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`,
              (ev: { type: string; object: KubeObject }) => {
                if (ev.type === 'ERROR') {
                  gone = true;
                  return;
                }
                rv = ev.object.metadata.resourceVersion ?? rv;
                if (ev.type === 'BOOKMARK') return;
                if (ev.type === 'DELETED') items.delete(uidOf(ev.object));
                else items.set(ev.object);
                batch.soon();
              },
              ctl.signal,
            );
          }
        } catch (e) {
          if (ctl.signal.aborted) return;
          const err = e instanceof ApiError ? e : new ApiError(0, String(e));
          setState((s) => ({ ...s, loaded: true, error: err }));
          if (err.status === 401 || err.status === 403 || err.status === 404) return;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
    return () => ctl.abort();
  }, [path]);
  return state;
}

/** Calls read now and every periodMs until the returned stop is called; its value or error goes to the callbacks, never after stop. */
export function poll<T>(read: () => Promise<T>, periodMs: number, onValue: (v: T) => void, onError: (e: ApiError) => void): () => void {
  let stopped = false;
  const tick = async (): Promise<void> => {
    try {
      const value = await read();
      if (!stopped) onValue(value);
    } catch (e) {
      if (!stopped) onError(e instanceof ApiError ? e : new ApiError(0, String(e)));
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), periodMs);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Polls a path every periodMs (metrics.k8s.io has no watch). */
export function usePoll<T>(path: string | undefined, periodMs: number): { value?: T; error?: ApiError } {
  const [state, setState] = useState<{ value?: T; error?: ApiError }>({});
  useEffect(() => {
    if (!path) return;
    return poll(
      () => get<T>(path),
      periodMs,
      (value) => setState({ value }),
      (error) => setState((s) => ({ ...s, error })),
    );
  }, [path, periodMs]);
  return state;
}

/** Kubernetes quantities (CPU "250m", "2"; memory "128Mi", "1Gi", "123456Ki") as numbers: cores and bytes. */
export function quantity(q: string | undefined): number {
  if (!q) return 0;
  const m = String(q).match(/^([0-9.e+-]+)([a-zA-Z]*)$/);
  if (!m) return 0;
  const n = Number(m[1]);
  const f: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  return n * (f[m[2]!] ?? 1);
}
