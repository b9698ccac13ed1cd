// Pod garbage collector (kube-controller-manager's podgc, the parts a node's
// life needs): pods bound to a node that no longer exists are deleted (no
// agent is left to finish them) once the node has been missing for a short
// quarantine (Kubernetes waits 40 s; a pod created for a node that registers a
// moment later, or one a user binds by hand, must be seen first), and terminating pods on an unreachable
// node are force-deleted once their grace period has run out (the agent that
// would confirm the kill is not answering; if the node comes back, its agent
// removes the containers of pods it no longer finds).
import { runReconcileLoop } from '../kube/client/reconcile-loop.js';
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { isKind } from '../errdefs.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { TAINT_UNREACHABLE } from './node-taints.js';

/** How long a node must stay missing before its pods are collected (kube-controller-manager's podgc: 40 s). */
export const ORPHAN_QUARANTINE_MS = 5_000;

export class PodGarbageCollector {
  /** When each missing node was first found missing. */
  private readonly missingSince = new Map<string, number>();
  readonly queue = new WorkQueue({ name: 'pod_garbage_collector', baseDelayMs: 200, maxDelayMs: 10_000 });

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
  ) {
    const podEvent = (p: KubeObject) => {
      if (p.spec?.nodeName) this.queue.add(keyOf(p));
    };
    informers.for(refs.pods).addHandlers({ onAdd: podEvent, onUpdate: podEvent });
    // A node that goes (or turns unreachable) takes another look at its pods.
    const nodeEvent = (n: KubeObject) => {
      for (const p of informers.for(refs.pods).list()) if (p.spec?.nodeName === n.metadata.name) this.queue.add(keyOf(p));
    };
    informers.for(refs.nodes).addHandlers({ onUpdate: nodeEvent, onDelete: nodeEvent });
  }

  run(workers = 1): void {
    runReconcileLoop(this.queue, 'pod-gc', (k) => this.reconcile(k), workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    const pod = this.informers.for(refs.pods).get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    const node = this.informers.for(refs.nodes).get(nodeName);
    if (!node) {
      // The cache may lag behind a node just registered: ask the API before deleting.
      if (await this.client.getOrNull(refs.nodes, nodeName)) {
        this.missingSince.delete(nodeName);
        return;
      }
      const since = this.missingSince.get(nodeName) ?? Date.now();
      this.missingSince.set(nodeName, since);
      const left = since + ORPHAN_QUARANTINE_MS - Date.now();
      if (left > 0) return this.queue.addAfter(key, left + 50);
      return this.forceDelete(pod, `its node ${nodeName} no longer exists`);
    }
    this.missingSince.delete(nodeName);
    if (!pod.metadata.deletionTimestamp) return;
    const unreachable = ((node.spec?.taints ?? []) as { key: string; effect: string }[]).some((t) => t.key === TAINT_UNREACHABLE && t.effect === 'NoExecute');
    if (!unreachable) return;
    const due = Date.parse(pod.metadata.deletionTimestamp);
    if (due > Date.now()) return this.queue.addAfter(key, due - Date.now() + 50);
    return this.forceDelete(pod, `it is terminating on unreachable node ${nodeName}`);
  }

  private async forceDelete(pod: KubeObject, why: string): Promise<void> {
    process.stderr.write(`pod-gc: force-deleting pod ${keyOf(pod)}: ${why}\n`);
    await this.client.delete(inNs(refs.pods, pod.metadata.namespace), pod.metadata.name!, { gracePeriodSeconds: 0, uid: pod.metadata.uid }).catch((err) => {
      if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
    });
  }
}
