// The ConfigMaps and Secrets this node's pods use, kept by watches, as the
// kubelet keeps them (its configMap and secret managers' Watch strategy): one
// watch per object (fieldSelector metadata.name=X in its namespace, which the
// Node authorizer allows for what a pod bound to the node uses), opened at the
// first read and closed once no pod of the node uses the object any more. A
// pod start, and every 10 s resync of every pod, used to GET each of them
// (kube-root-ca.crt for every projected service-account volume): two API
// requests a pod start, with their authorization, and one a pod per resync.
//
// A read waits for the watch's first list. While that list fails (a node
// authorizer that has not seen the pod yet, an API server away), reads go to
// the API server as before and the next read tries a watch again. Between
// events a read may be as far behind as the watch is, as with the kubelet.
import type { KubeClient, KubeObject, ResourceRef } from '../../kube/client/kube-client.js';
import { Informer } from '../../kube/client/informer.js';

export type SourceKind = 'configmaps' | 'secrets';

interface Watched {
  informer: Informer;
  /** Resolves true once the first list is in, false if it failed. */
  listed: Promise<boolean>;
  /** Pod uids using the object. */
  users: Set<string>;
  /** Stops the watch; a read still waiting for its first list goes to the API server. */
  close(): void;
}

const refOf = (kind: SourceKind, namespace: string): ResourceRef => ({ group: '', version: 'v1', resource: kind, namespace });

export class PodSourceCache {
  private readonly watched = new Map<string, Watched>();
  /** Pod uid -> the objects it read (keys of `watched`). */
  private readonly uses = new Map<string, Set<string>>();

  constructor(private readonly client: KubeClient) {}

  /** The object as the watch has it (null: there is none), read for pod `uid`, which uses it until release(uid). */
  async get(kind: SourceKind, namespace: string, name: string, uid: string): Promise<KubeObject | null> {
    const key = `${kind}/${namespace}/${name}`;
    let w = this.watched.get(key);
    if (!w) {
      w = this.open(kind, namespace, name);
      this.watched.set(key, w);
    }
    w.users.add(uid);
    let used = this.uses.get(uid);
    if (!used) this.uses.set(uid, (used = new Set()));
    used.add(key);
    if (await w.listed) return w.informer.get(`${namespace}/${name}`) ?? null;
    // No watch: this read goes to the API server, and the next one tries a watch again.
    if (this.watched.get(key) === w) {
      this.watched.delete(key);
      w.close();
    }
    return this.client.getOrNull(refOf(kind, namespace), name);
  }

  /** The pod is gone from the node: the watches only it used are closed. */
  release(uid: string): void {
    for (const key of this.uses.get(uid) ?? []) {
      const w = this.watched.get(key);
      if (!w) continue;
      w.users.delete(uid);
      if (w.users.size === 0) {
        this.watched.delete(key);
        w.close();
      }
    }
    this.uses.delete(uid);
  }

  /** Closes every watch (the agent stops). */
  stop(): void {
    for (const w of this.watched.values()) w.close();
    this.watched.clear();
    this.uses.clear();
  }

  /** How many objects are watched now (tests). */
  get size(): number {
    return this.watched.size;
  }

  private open(kind: SourceKind, namespace: string, name: string): Watched {
    const informer = new Informer(this.client, refOf(kind, namespace), { fieldSelector: `metadata.name=${name}`, failFirstList: true });
    let closed!: (listed: boolean) => void;
    const listed = Promise.race([
      informer.start().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => (closed = resolve)),
    ]);
    return {
      informer,
      listed,
      users: new Set(),
      close: () => {
        informer.stop();
        closed(false);
      },
    };
  }
}
