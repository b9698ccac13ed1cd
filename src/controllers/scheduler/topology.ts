// Inter-pod affinity, anti-affinity and topology spread need to know where
// matching pods already run. This builds that once per scheduling attempt
// (only for pods that use these features, or when assigned pods carry
// anti-affinity terms), by one pass over the node-info cache.
import { labelSelectorMatches } from '../../kube/api/selectors.js';
import type { KubeObject } from '../../kube/client/kube-client.js';
import { nodeAffinityFits, termSelects, type TopologyContext } from './filters.js';
import type { NodeInfo } from './node-info.js';

const required = (a: any): any[] => a?.requiredDuringSchedulingIgnoredDuringExecution ?? [];

export function needsTopology(pod: KubeObject, anyExistingAnti: boolean): boolean {
  const a = pod.spec?.affinity;
  return anyExistingAnti || required(a?.podAffinity).length > 0 || required(a?.podAntiAffinity).length > 0 || (pod.spec?.topologySpreadConstraints ?? []).length > 0;
}

export function hasRequiredAntiAffinity(pod: KubeObject): boolean {
  return required(pod.spec?.affinity?.podAntiAffinity).length > 0;
}

export function buildTopology(pod: KubeObject, nodes: Iterable<NodeInfo>): TopologyContext {
  const ns = pod.metadata.namespace;
  const affTerms = required(pod.spec?.affinity?.podAffinity);
  const antiTerms = required(pod.spec?.affinity?.podAntiAffinity);
  const ctx: TopologyContext = {
    affinity: affTerms.map((t) => ({ key: t.topologyKey, values: new Set<string>(), anyMatch: false, selfMatch: termSelects(t, ns, pod) })),
    antiAffinity: antiTerms.map((t) => ({ key: t.topologyKey, values: new Set<string>() })),
    existingAnti: [],
    spread: [],
  };
  const hard = (pod.spec?.topologySpreadConstraints ?? []).filter((s: any) => (s.whenUnsatisfiable ?? 'DoNotSchedule') === 'DoNotSchedule');
  for (const s of hard) {
    ctx.spread.push({ key: s.topologyKey, maxSkew: s.maxSkew ?? 1, counts: new Map(), min: 0, self: labelSelectorMatches(s.labelSelector ?? {}, pod.metadata.labels) ? 1 : 0 });
  }
  const anti = new Map<string, Set<string>>();
  for (const n of nodes) {
    // Spread domains are the nodes the pod could go to by node affinity (nodeAffinityPolicy Honor).
    const eligible = hard.length ? nodeAffinityFits(pod, n) : false;
    hard.forEach((s: any, i: number) => {
      const v = n.labels[s.topologyKey];
      if (eligible && v !== undefined && !ctx.spread[i].counts.has(v)) ctx.spread[i].counts.set(v, 0);
    });
    for (const { pod: other } of n.pods.values()) {
      if (other.metadata.deletionTimestamp) continue;
      affTerms.forEach((t, i) => {
        if (!termSelects(t, ns, other)) return;
        ctx.affinity[i].anyMatch = true;
        const v = n.labels[t.topologyKey];
        if (v !== undefined) ctx.affinity[i].values.add(v);
      });
      antiTerms.forEach((t, i) => {
        const v = n.labels[t.topologyKey];
        if (v !== undefined && termSelects(t, ns, other)) ctx.antiAffinity[i].values.add(v);
      });
      for (const t of required(other.spec?.affinity?.podAntiAffinity)) {
        const v = n.labels[t.topologyKey];
        if (v === undefined || !termSelects(t, other.metadata.namespace, pod)) continue;
        let set = anti.get(t.topologyKey);
        if (!set) anti.set(t.topologyKey, (set = new Set()));
        set.add(v);
      }
      if (!eligible) continue;
      hard.forEach((s: any, i: number) => {
        const v = n.labels[s.topologyKey];
        if (v === undefined || other.metadata.namespace !== ns || !labelSelectorMatches(s.labelSelector ?? {}, other.metadata.labels)) return;
        ctx.spread[i].counts.set(v, (ctx.spread[i].counts.get(v) ?? 0) + 1);
      });
    }
  }
  for (const [key, values] of anti) ctx.existingAnti.push({ key, values });
  for (const s of ctx.spread) s.min = s.counts.size ? Math.min(...s.counts.values()) : 0;
  return ctx;
}
