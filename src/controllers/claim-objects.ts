// Kubernetes' ControllerRefManager for the StatefulSet and DaemonSet
// controllers and their ControllerRevisions: an orphan the owner's selector
// selects is adopted (after `kubectl delete --cascade=orphan` and a
// re-create, the new owner takes the old pods and revisions back), and an
// owned object that no longer matches is released. Adoption and release
// patch with the object's resourceVersion, so a concurrent change wins and the
// next reconcile decides again.
import type { KubeApi, KubeObject, ResourceRef } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import type { SharedInformers } from '../kube/client/shared-informers.js';
import { isKind } from '../errdefs.js';
import { labelSelectorMatches } from '../kube/api/selectors.js';
import { controllerOf, ownerRefs } from './pod-state.js';
import { ownerRefOf } from './replicaset-controller.js';

export interface ClaimOptions {
  kind: string;
  /** A further condition for adoption (a StatefulSet adopts only pods named <set>-<ordinal>). */
  adoptable?: (o: KubeObject) => boolean;
}

/** The objects (in one namespace, the caller's list) the owner controls after adopting and releasing. */
export async function claimObjects(client: KubeApi, ref: ResourceRef, candidates: KubeObject[], owner: KubeObject, opts: ClaimOptions): Promise<KubeObject[]> {
  const selector = owner.spec?.selector;
  const deleting = Boolean(owner.metadata.deletionTimestamp);
  const owned: KubeObject[] = [];
  for (const o of candidates) {
    if (o.metadata.namespace !== owner.metadata.namespace) continue;
    const ctrl = controllerOf(o);
    const matches = labelSelectorMatches(selector, o.metadata.labels);
    if (ctrl?.uid === owner.metadata.uid) {
      if (matches) owned.push(o);
      else {
        const rest = ownerRefs(o).filter((r) => r.uid !== owner.metadata.uid);
        await ignoreGone(client.patch(ref, o.metadata.name!, { metadata: { ownerReferences: rest.length ? rest : null, resourceVersion: o.metadata.resourceVersion } }));
      }
    } else if (!ctrl && matches && !deleting && !o.metadata.deletionTimestamp && (opts.adoptable?.(o) ?? true)) {
      const refsNow = [...ownerRefs(o), ownerRefOf(owner, opts.kind)];
      const adopted = await ignoreGone(client.patch<KubeObject>(ref, o.metadata.name!, { metadata: { ownerReferences: refsNow, resourceVersion: o.metadata.resourceVersion } }));
      if (adopted) owned.push(adopted);
    }
  }
  return owned;
}

async function ignoreGone<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isKind(err, 'not-found')) return undefined;
    throw err;
  }
}

/** Keys of the owners (of one resource) in the object's namespace whose selector selects it: who may adopt an orphan. */
export function ownersSelecting(informers: SharedInformers, ownerRef: ResourceRef, o: KubeObject): string[] {
  return informers
    .for(ownerRef)
    .list()
    .filter((w) => w.metadata.namespace === o.metadata.namespace && labelSelectorMatches(w.spec?.selector, o.metadata.labels))
    .map(keyOf);
}
