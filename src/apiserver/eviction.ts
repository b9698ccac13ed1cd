// pods/eviction (policy/v1 Eviction, used by `kubectl drain`): a delete that
// respects PodDisruptionBudgets. A budget with no disruptions allowed answers
// 429 TooManyRequests, as Kubernetes does, so drain retries. An allowed
// eviction first takes one disruption off the budget's status (and notes the
// pod in status.disruptedPods) with the budget's resourceVersion, so two
// concurrent evictions cannot both spend the last allowed disruption: the
// second conflicts, reads the budget again and finds none left.
import { isKind, TugError } from '../errdefs.js';
import type { KObject, ResourceType } from '../kube/api/resource-type.js';
import type { ObjectStore, DeleteOptions } from './object-store.js';
import { labelSelectorMatches } from '../kube/api/selectors.js';

const MAX_CONFLICT_RETRIES = 5;

function budgetExhausted(pdb: KObject): TugError {
  return new TugError('unavailable', "Cannot evict pod as it would violate the pod's disruption budget.", {
    code: 429,
    reason: 'TooManyRequests',
    details: { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata?.name} needs ${pdb.status?.desiredHealthy ?? 0} healthy pods and has ${pdb.status?.currentHealthy ?? 0} currently` }] },
  });
}

/** Spends one disruption of the pod's budget (if it has one); throws 429 when none is left. */
async function takeDisruption(objects: ObjectStore, pod: KObject, ns: string, dryRun: boolean): Promise<void> {
  const pdbType = objects.registry.lookup('policy', 'v1', 'poddisruptionbudgets');
  if (!pdbType) return;
  for (let attempt = 0; ; attempt++) {
    const pdbs = (await objects.list(pdbType, ns)).items.filter((b) => b.spec?.selector && labelSelectorMatches(b.spec.selector, pod.metadata?.labels));
    if (pdbs.length > 1) throw new TugError('internal', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    const pdb = pdbs[0];
    if (!pdb) return;
    // A budget its controller has not seen since it changed cannot be trusted (Kubernetes' observedGeneration check).
    if ((pdb.status?.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0) || (pdb.status?.disruptionsAllowed ?? 0) < 1) throw budgetExhausted(pdb);
    if (dryRun) return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status = { ...pdb.status, disruptionsAllowed: pdb.status.disruptionsAllowed - 1, disruptedPods: { ...(pdb.status.disruptedPods ?? {}), [pod.metadata!.name!]: now } };
    try {
      await objects.update(pdbType, ns, pdb.metadata!.name!, { ...pdb, status }, { subresource: 'status' });
      return;
    } catch (err) {
      if (!isKind(err, 'conflict') || attempt >= MAX_CONFLICT_RETRIES) throw err;
    }
  }
}

export async function evictPod(objects: ObjectStore, t: ResourceType, ns: string, name: string, body: any): Promise<KObject> {
  const pod = await objects.get(t, ns, name);
  const terminal = ['Succeeded', 'Failed'].includes(pod.status?.phase);
  const d = body?.deleteOptions ?? {};
  const dryRun = Array.isArray(d.dryRun) && d.dryRun.includes('All');
  if (!terminal && !pod.metadata?.deletionTimestamp) await takeDisruption(objects, pod, ns, dryRun);
  const opts: DeleteOptions = { gracePeriodSeconds: d.gracePeriodSeconds, preconditions: d.preconditions, dryRun };
  await objects.delete(t, ns, name, opts);
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}
