// kube-scheduler's VolumeBinding plugin for pods with PersistentVolumeClaims.
// PreFilter: every claim exists and is not being deleted, and no claim of an
// Immediate class is still unbound ("pod has unbound immediate
// PersistentVolumeClaims"). Filter: a bound claim's volume must admit the node
// (its node affinity); an unbound WaitForFirstConsumer claim needs an
// available volume on the node, or a provisioner that can make one there.
// PreBind (after the node is chosen): a static volume is pre-bound to its
// claim (claimRef), a claim to provision gets volume.kubernetes.io/selected-node;
// the pod is bound only when all its claims are Bound, as Kubernetes does.
import type { KubeApi, KubeObject } from '../../kube/client/kube-client.js';
import { inNs, type SharedInformers } from '../../kube/client/shared-informers.js';
import { BOUND_BY_CONTROLLER, LOCAL_PATH_PROVISIONER, NODE_LOCAL_PATH_DIR, NO_PROVISIONER, SELECTED_NODE, claimClass, podClaimNames } from '../../kube/api/storage.js';
import { findBestMatch, volumeFitsNode } from '../volume/binding-match.js';
import { storageRefs } from '../volume/storage-refs.js';
import type { NodeInfo } from './node-info.js';

export interface PodVolumes {
  /** Volumes of the pod's bound claims. */
  bound: KubeObject[];
  /** Unbound claims of WaitForFirstConsumer classes: bound once a node is chosen. */
  delayed: KubeObject[];
}

/** How long a chosen pod waits for its claims to be bound before the attempt fails (kube-scheduler's bind timeout). */
export const volumeBindTimeoutMs = 600_000;

export class VolumeBinding {
  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
  ) {}

  /** Starts the informers the plugin reads; `changed` is told when a claim, volume or class changes. */
  watch(changed: () => void): void {
    for (const ref of [storageRefs.pvcs, storageRefs.pvs, storageRefs.classes]) this.informers.for(ref).addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }

  /** The pod's claims, or the reason it cannot be scheduled anywhere yet. */
  preFilter(pod: KubeObject): { volumes?: PodVolumes; error?: string } {
    const names = podClaimNames(pod);
    if (!names.length) return {};
    const ns = pod.metadata.namespace;
    const out: PodVolumes = { bound: [], delayed: [] };
    let unboundImmediate = false;
    for (const name of names) {
      const pvc = this.informers.for(storageRefs.pvcs).get(`${ns}/${name}`);
      if (!pvc) return { error: `persistentvolumeclaim "${name}" not found` };
      if (pvc.metadata.deletionTimestamp) return { error: `persistentvolumeclaim "${name}" is being deleted` };
      if (pvc.spec?.volumeName && pvc.status?.phase === 'Bound') {
        const pv = this.informers.for(storageRefs.pvs).get(pvc.spec.volumeName);
        if (!pv) return { error: `persistentvolume "${pvc.spec.volumeName}" not found` };
        out.bound.push(pv);
        continue;
      }
      const cls = claimClass(pvc);
      const sc = cls ? this.informers.for(storageRefs.classes).get(cls) : undefined;
      if (sc?.volumeBindingMode === 'WaitForFirstConsumer' && !pvc.spec?.volumeName) out.delayed.push(pvc);
      else unboundImmediate = true;
    }
    if (unboundImmediate) return { error: 'pod has unbound immediate PersistentVolumeClaims' };
    return { volumes: out };
  }

  filter(v: PodVolumes, n: NodeInfo): string | null {
    for (const pv of v.bound) if (!volumeFitsNode(pv, n)) return 'node(s) had volume node affinity conflict';
    if (!v.delayed.length) return null;
    const pvs = this.informers.for(storageRefs.pvs).list();
    const taken = new Set<string>();
    for (const pvc of v.delayed) {
      const match = findBestMatch(pvs.filter((p) => !taken.has(p.metadata.name!)), pvc, { delayBinding: true, node: n });
      if (match) {
        taken.add(match.metadata.name!);
        continue;
      }
      if (!this.canProvision(pvc, n)) return "node(s) didn't find available persistent volumes to bind";
    }
    return null;
  }

  private canProvision(pvc: KubeObject, n: NodeInfo): boolean {
    const sc = this.informers.for(storageRefs.classes).get(claimClass(pvc) ?? '');
    if (!sc || sc.provisioner === NO_PROVISIONER) return false;
    // tug's own provisioner makes volumes only on tug agents (they say where).
    if (sc.provisioner === LOCAL_PATH_PROVISIONER) return Boolean(n.node.metadata.annotations?.[NODE_LOCAL_PATH_DIR]);
    return true;
  }

  /** PreBind: hands the delayed claims to the chosen node, then waits until every claim of the pod is Bound. */
  async preBind(pod: KubeObject, v: PodVolumes, node: NodeInfo, stillWanted: () => boolean): Promise<void> {
    const pvs = this.informers.for(storageRefs.pvs).list();
    const taken = new Set<string>();
    for (const pvc of v.delayed) {
      const match = findBestMatch(pvs.filter((p) => !taken.has(p.metadata.name!)), pvc, { delayBinding: true, node });
      if (match) {
        taken.add(match.metadata.name!);
        if (match.spec?.claimRef) continue; // already pre-bound to this claim
        await this.client.patch(storageRefs.pvs, match.metadata.name!, {
          metadata: { resourceVersion: match.metadata.resourceVersion, annotations: { [BOUND_BY_CONTROLLER]: 'yes' } },
          spec: { claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid, resourceVersion: pvc.metadata.resourceVersion } },
        });
      } else if (pvc.metadata.annotations?.[SELECTED_NODE] !== node.name) {
        await this.client.patch(inNs(storageRefs.pvcs, pvc.metadata.namespace), pvc.metadata.name!, { metadata: { annotations: { [SELECTED_NODE]: node.name } } });
      }
    }
    await this.waitBound(pod, stillWanted);
  }

  private async waitBound(pod: KubeObject, stillWanted: () => boolean): Promise<void> {
    const ns = pod.metadata.namespace;
    const deadline = Date.now() + volumeBindTimeoutMs;
    for (;;) {
      const pending = podClaimNames(pod).filter((name) => this.informers.for(storageRefs.pvcs).get(`${ns}/${name}`)?.status?.phase !== 'Bound');
      if (!pending.length) return;
      if (!stillWanted()) throw new Error('the pod was deleted or the scheduler stopped while its volumes were being bound');
      if (Date.now() > deadline) throw new Error(`binding volumes: timed out waiting for the condition (claims ${pending.join(', ')} not bound)`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
