// ResourceQuota admission: refuse a create that would exceed spec.hard (403
// "exceeded quota" as in Kubernetes), and what a namespace uses, which
// resource-quota-controller.ts also writes into status.hard / status.used.
import { TugError } from '../errdefs.js';
import type { KObject, ResourceType } from '../kube/api/resource-type.js';
import type { ObjectStore } from './object-store.js';
import { parseQuantity, formatQuantity } from '../kube/api/quantity.js';

/** Names a quota may limit for this kind, and how much one object uses of each. */
function usageOf(t: ResourceType, o: KObject): Map<string, number> {
  const u = new Map<string, number>();
  const countName = t.group ? `count/${t.plural}.${t.group}` : `count/${t.plural}`;
  u.set(countName, 1);
  if (!t.group && ['pods', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims', 'resourcequotas', 'replicationcontrollers'].includes(t.plural)) u.set(t.plural, 1);
  if (t.kind === 'Service') {
    const ports = (o.spec?.ports ?? []).length;
    if (o.spec?.type === 'NodePort' || o.spec?.type === 'LoadBalancer') u.set('services.nodeports', ports);
    if (o.spec?.type === 'LoadBalancer') u.set('services.loadbalancers', 1);
  }
  if (t.kind === 'PersistentVolumeClaim') u.set('requests.storage', parseQuantity(o.spec?.resources?.requests?.storage) ?? 0);
  if (t.kind === 'Pod') {
    for (const kind of ['requests', 'limits'] as const) {
      for (const res of ['cpu', 'memory', 'ephemeral-storage']) {
        let sum = 0;
        for (const c of o.spec?.containers ?? []) sum += parseQuantity(c.resources?.[kind]?.[res]) ?? 0;
        u.set(`${kind}.${res}`, sum);
        if (kind === 'requests') u.set(res, sum);
      }
    }
  }
  return u;
}

/** Terminal pods no longer count against quota. */
const counts = (t: ResourceType, o: KObject) => !(t.kind === 'Pod' && ['Succeeded', 'Failed'].includes(o.status?.phase));

export class ResourceQuotas {
  constructor(private readonly objects: ObjectStore) {}

  private get quotaType(): ResourceType {
    return this.objects.registry.lookup('', 'v1', 'resourcequotas')!;
  }

  /** Admission for creates: throws 403 Forbidden when a quota would be exceeded. */
  async admit(t: ResourceType, o: KObject): Promise<void> {
    await this.check(t, o, await this.quotasFor(t, o));
  }

  /** The ResourceQuotas of the namespace `o` is created in (none for cluster-scoped kinds). */
  async quotasFor(t: ResourceType, o: KObject): Promise<KObject[]> {
    const ns = o.metadata?.namespace;
    if (!t.namespaced || !ns) return [];
    return (await this.objects.list(this.quotaType, ns)).items;
  }

  /** Throws 403 Forbidden when creating `o` would exceed one of `quotas`. */
  async check(t: ResourceType, o: KObject, quotas: KObject[]): Promise<void> {
    const ns = o.metadata?.namespace;
    if (!t.namespaced || !ns || !quotas.length) return;
    const wants = usageOf(t, o);
    for (const q of quotas) {
      const hard: Record<string, string> = q.spec?.hard ?? {};
      const relevant = Object.keys(hard).filter((r) => wants.has(r));
      if (!relevant.length) continue;
      if (t.kind === 'Pod') {
        const missing = relevant.filter((r) => /^(requests|limits)\.(cpu|memory)$|^(cpu|memory)$/.test(r)).filter((r) => {
          const [kind, res] = r.includes('.') ? r.split('.') : ['requests', r];
          return (o.spec?.containers ?? []).some((c: any) => c.resources?.[kind]?.[res] === undefined);
        });
        if (missing.length) {
          throw new TugError('forbidden', `pods "${o.metadata?.name}" is forbidden: failed quota: ${q.metadata?.name}: must specify ${missing.join(',')} for: ${(o.spec?.containers ?? []).map((c: any) => c.name).join(',')}`);
        }
      }
      const used = await this.usedIn(ns, relevant);
      const over = relevant.filter((r) => (used.get(r) ?? 0) + (wants.get(r) ?? 0) > (parseQuantity(hard[r]) ?? Infinity));
      if (over.length) {
        const fmt = (m: (r: string) => number) => over.map((r) => `${r}=${formatQuantity(r, m(r))}`).join(',');
        throw new TugError(
          'forbidden',
          `${t.group ? `${t.plural}.${t.group}` : t.plural} "${o.metadata?.name}" is forbidden: exceeded quota: ${q.metadata?.name}, requested: ${fmt((r) => wants.get(r) ?? 0)}, used: ${fmt((r) => used.get(r) ?? 0)}, limited: ${fmt((r) => parseQuantity(hard[r]) ?? 0)}`,
        );
      }
    }
  }

  /** How much of each resource the namespace's objects use now (read from the store). */
  async usedIn(ns: string, resources: string[]): Promise<Map<string, number>> {
    const used = new Map<string, number>(resources.map((r) => [r, 0]));
    for (const t of this.objects.registry.types) {
      if (!t.namespaced || t.fromStorage) continue;
      const probe = usageOf(t, { spec: {} });
      if (!resources.some((r) => probe.has(r))) continue;
      for (const o of (await this.objects.list(t, ns)).items) {
        if (!counts(t, o) || o.metadata?.deletionTimestamp) continue;
        for (const [r, n] of usageOf(t, o)) if (used.has(r)) used.set(r, used.get(r)! + n);
      }
    }
    return used;
  }
}
