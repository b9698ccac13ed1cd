// The node authorizer's graph: for each node, the pods bound to it and what
// each names (Secrets, ConfigMaps, claims, its ServiceAccount), kept by one
// in-process list + watch of pods, as Kubernetes' node authorizer keeps its
// graph from informers. Without it every Secret, ConfigMap or token request of
// a node listed and decoded all the pods of the namespace: a burst of n pods
// on a node cost n^2 decodes.
//
// Only the edges are cached (not whole pods), so a server with 30,000 pods
// holds a few hundred bytes each. The graph can lag a write by the watch's
// delivery; node-authorizer.ts treats a miss as "not known yet" and asks the
// store, so a pod bound a moment ago is never refused because of it.
import { Informer, keyOf } from '../kube/client/informer.js';
import type { KubeObject, ListWatcher } from '../kube/client/kube-client.js';
import { mappedLister } from '../kube/client/mapped-lister.js';
import { podReferences, type PodReferences } from '../kube/api/pod-references.js';
import type { KObject } from '../kube/api/resource-type.js';

/** A pod as the graph keeps it: its name, node and references. */
interface PodEdges extends KubeObject {
  nodeName: string;
  references: PodReferences;
}

const podsRef = { group: '', version: 'v1', resource: 'pods' };

function edgesOf(pod: KubeObject): PodEdges {
  const { name, namespace, uid, resourceVersion } = pod.metadata;
  return { metadata: { name, namespace, uid, resourceVersion }, nodeName: String(pod.spec?.nodeName ?? ''), references: podReferences(pod as KObject) };
}

/** A ListWatcher of pods that hands on only their edges (the informer caches what it is given). */
export class NodePodGraph {
  private readonly informer: Informer<PodEdges>;
  /** node -> pod key -> edges. */
  private readonly byNode = new Map<string, Map<string, PodEdges>>();
  private synced = false;

  constructor(lw: ListWatcher) {
    this.informer = new Informer<PodEdges>(mappedLister(lw, edgesOf), podsRef);
    this.informer.addHandlers({
      onAdd: (p) => this.put(p),
      onUpdate: (p, old) => {
        this.drop(old);
        this.put(p);
      },
      onDelete: (p) => this.drop(p),
    });
  }

  async start(): Promise<void> {
    await this.informer.start();
    this.synced = true;
  }

  stop(): void {
    this.informer.stop();
  }

  /**
   * The references of the node's pods (in `ns`, or all), or undefined before
   * the first list: the caller then asks the store.
   */
  podsOn(node: string, ns: string | undefined): PodReferences[] | undefined {
    if (!this.synced) return undefined;
    const out: PodReferences[] = [];
    for (const p of this.byNode.get(node)?.values() ?? []) if (ns === undefined || p.metadata.namespace === ns) out.push(p.references);
    return out;
  }

  /** Namespaced claim names used by the node's pods. */
  claimsOn(node: string): { namespace: string; claim: string }[] | undefined {
    if (!this.synced) return undefined;
    const out: { namespace: string; claim: string }[] = [];
    for (const p of this.byNode.get(node)?.values() ?? []) for (const claim of p.references.claims) out.push({ namespace: String(p.metadata.namespace), claim });
    return out;
  }

  private put(p: PodEdges): void {
    if (!p.nodeName) return;
    let pods = this.byNode.get(p.nodeName);
    if (!pods) this.byNode.set(p.nodeName, (pods = new Map()));
    pods.set(keyOf(p), p);
  }

  private drop(p: PodEdges): void {
    const pods = this.byNode.get(p.nodeName);
    if (!pods) return;
    pods.delete(keyOf(p));
    if (pods.size === 0) this.byNode.delete(p.nodeName);
  }
}
