// A ListWatcher whose objects are mapped on the way through (list items and
// watch events alike; bookmarks pass untouched): informers that keep only a
// projection of each object (metadata, references) hold that, not the whole.
import type { KubeList, KubeObject, ListWatcher, ResourceRef } from './kube-client.js';

export function mappedLister(lw: ListWatcher, project: (o: KubeObject) => KubeObject): ListWatcher {
  return {
    async list<T = KubeObject>(ref: ResourceRef, opts?: Parameters<ListWatcher['list']>[1]): Promise<KubeList<T>> {
      const l = await lw.list<KubeObject>(ref, opts);
      return { metadata: l.metadata, items: l.items.map(project) as T[] };
    },
    async *watch<T = KubeObject>(ref: ResourceRef, opts?: Parameters<ListWatcher['watch']>[1]) {
      for await (const e of lw.watch<KubeObject>(ref, opts)) yield { type: e.type, object: (e.type === 'BOOKMARK' ? e.object : project(e.object)) as T };
    },
  };
}
