// pods/eviction (policy/v1 Eviction, used by `kubectl drain`): a delete that
// respects PodDisruptionBudgets. A budget with no disruptions allowed answers
// 429 TooManyRequests, as Kubernetes does, so drain retries.
import { TugError } from '../errdefs.js';
import type { KObject, ResourceType } from '../kube/api/resource-type.js';
import type { ObjectStore, DeleteOptions } from './object-store.js';
import { labelSelectorMatches } from '../kube/api/selectors.js';

export async function evictPod(objects: ObjectStore, t: ResourceType, ns: string, name: string, body: any): Promise<KObject> {
  const pod = await objects.get(t, ns, name);
  const terminal = ['Succeeded', 'Failed'].includes(pod.status?.phase);
  if (!terminal && !pod.metadata?.deletionTimestamp) {
    const pdbType = objects.registry.lookup('policy', 'v1', 'poddisruptionbudgets');
    const pdbs = pdbType ? (await objects.list(pdbType, ns)).items.filter((b) => labelSelectorMatches(b.spec?.selector, pod.metadata?.labels)) : [];
    if (pdbs.length > 1) throw new TugError('internal', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    const pdb = pdbs[0];
    if (pdb && (pdb.status?.disruptionsAllowed ?? 0) < 1) {
      throw new TugError('unavailable', "Cannot evict pod as it would violate the pod's disruption budget.", {
        code: 429,
        reason: 'TooManyRequests',
        details: { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata?.name} needs ${pdb.status?.desiredHealthy ?? 0} healthy pods and has ${pdb.status?.currentHealthy ?? 0} currently` }] },
      });
    }
  }
  const d = body?.deleteOptions ?? {};
  const opts: DeleteOptions = { gracePeriodSeconds: d.gracePeriodSeconds, preconditions: d.preconditions, dryRun: Array.isArray(d.dryRun) && d.dryRun.includes('All') };
  await objects.delete(t, ns, name, opts);
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}
