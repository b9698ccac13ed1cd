// LimitRange admission for Pods: fills container requests/limits from the
// namespace's Container defaults and refuses containers outside min/max,
// with Kubernetes' messages. Runs before ResourceQuota, as in Kubernetes.
import { TugError } from '../errdefs.js';
import type { KObject, ResourceType } from '../kube/api/resource-type.js';
import type { ObjectStore } from './object-store.js';
import { parseQuantity } from '../kube/api/quantity.js';

export class LimitRanger {
  constructor(private readonly objects: ObjectStore) {}

  async admit(t: ResourceType, o: KObject): Promise<void> {
    this.apply(o, await this.rangesFor(t, o));
  }

  /** The LimitRanges that apply to creating `o` (none unless it is a Pod). */
  async rangesFor(t: ResourceType, o: KObject): Promise<KObject[]> {
    if (t.kind !== 'Pod' || !o.metadata?.namespace) return [];
    const lrType = this.objects.registry.lookup('', 'v1', 'limitranges')!;
    return (await this.objects.list(lrType, o.metadata.namespace)).items;
  }

  /** Fills defaults into the pod's containers and refuses what is outside min/max. */
  apply(o: KObject, ranges: KObject[]): void {
    for (const lr of ranges) {
      for (const item of lr.spec?.limits ?? []) {
        if (item.type !== 'Container') continue;
        for (const c of [...(o.spec?.containers ?? []), ...(o.spec?.initContainers ?? [])]) {
          const res = (c.resources ??= {});
          for (const [r, v] of Object.entries(item.default ?? {})) {
            res.limits ??= {};
            res.limits[r] ??= v;
          }
          // A request defaults to defaultRequest, else to the (possibly defaulted) limit.
          for (const r of new Set([...Object.keys(item.defaultRequest ?? {}), ...Object.keys(res.limits ?? {})])) {
            const v = item.defaultRequest?.[r] ?? res.limits?.[r];
            if (v === undefined) continue;
            res.requests ??= {};
            res.requests[r] ??= v;
          }
          for (const [r, max] of Object.entries(item.max ?? {})) {
            const lim = parseQuantity(res.limits?.[r]);
            if (lim !== undefined && lim > (parseQuantity(max as string) ?? Infinity)) {
              throw new TugError('forbidden', `pods "${o.metadata?.name}" is forbidden: maximum ${r} usage per Container is ${String(max)}, but limit is ${res.limits[r]}`);
            }
          }
          for (const [r, min] of Object.entries(item.min ?? {})) {
            const req = parseQuantity(res.requests?.[r]);
            if (req !== undefined && req < (parseQuantity(min as string) ?? 0)) {
              throw new TugError('forbidden', `pods "${o.metadata?.name}" is forbidden: minimum ${r} usage per Container is ${String(min)}, but request is ${res.requests[r]}`);
            }
          }
        }
      }
    }
  }
}
