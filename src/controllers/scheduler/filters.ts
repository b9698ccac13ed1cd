// Scheduling filters: each answers "can this pod go on this node?" with null
// (yes) or the reason kube-scheduler would print for "no" (the reasons are
// counted per node into the FailedScheduling message).
import { labelSelectorMatches } from '../../kube/api/selectors.js';
import type { KubeObject } from '../../kube/client/kube-client.js';
import type { NodeInfo, Resources } from './node-info.js';

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}
export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export function tolerates(tols: Toleration[], t: Taint): boolean {
  return tols.some((tol) => {
    if (tol.effect && tol.effect !== t.effect) return false;
    if (!tol.key) return tol.operator === 'Exists';
    if (tol.key !== t.key) return false;
    return tol.operator === 'Exists' || (tol.value ?? '') === (t.value ?? '');
  });
}

/** One nodeSelectorTerm: all matchExpressions (labels) and matchFields (metadata.name) hold. */
function termMatches(term: any, node: NodeLabels): boolean {
  const exprs: any[] = term?.matchExpressions ?? [];
  const fields: any[] = term?.matchFields ?? [];
  if (!exprs.length && !fields.length) return false; // an empty term matches nothing, as in Kubernetes
  const labels = node.labels;
  for (const e of exprs) if (!requirementHolds(e, labels[e.key])) return false;
  for (const f of fields) if (!requirementHolds(f, f.key === 'metadata.name' ? node.name : undefined)) return false;
  return true;
}

function requirementHolds(e: { operator: string; values?: string[] }, v: string | undefined): boolean {
  switch (e.operator) {
    case 'In':
      return v !== undefined && (e.values ?? []).includes(v);
    case 'NotIn':
      return v === undefined || !(e.values ?? []).includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    case 'Gt':
      return v !== undefined && Number(v) > Number(e.values?.[0]);
    case 'Lt':
      return v !== undefined && Number(v) < Number(e.values?.[0]);
    default:
      return false;
  }
}

/** What a node selector term looks at: the node's labels and (matchFields) its name. */
export type NodeLabels = Pick<NodeInfo, 'name' | 'labels'>;

export function matchesNodeSelectorTerms(terms: any[], node: NodeLabels): boolean {
  return terms.some((t) => termMatches(t, node));
}

export function nodeAffinityFits(pod: KubeObject, node: NodeInfo): boolean {
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (node.labels[k] !== v) return false;
  const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req && !matchesNodeSelectorTerms(req.nodeSelectorTerms ?? [], node)) return false;
  return true;
}

/** Everything the per-node filters need that depends only on the pod, computed once per scheduling attempt. */
export interface PodContext {
  pod: KubeObject;
  key: string;
  requests: Resources;
  tolerations: Toleration[];
  /** Set when the pod or some assigned pod uses inter-pod (anti-)affinity or spread constraints. */
  topology?: TopologyContext;
  /** The pod's PersistentVolumeClaims, and the filter that checks their volumes against a node (volume-binding.ts). */
  volumes?: { filter(n: NodeInfo): FilterResult };
}

export interface TopologyContext {
  /** Per required affinity term: topology values where a matching pod runs. */
  affinity: { key: string; values: Set<string>; anyMatch: boolean; selfMatch: boolean }[];
  /** Per required anti-affinity term of the pod: topology values with a matching pod. */
  antiAffinity: { key: string; values: Set<string> }[];
  /** Existing pods' anti-affinity against this pod: topologyKey → forbidden values. */
  existingAnti: { key: string; values: Set<string> }[];
  /** Hard spread constraints: domain counts, minimum, whether the pod counts itself. */
  spread: { key: string; maxSkew: number; counts: Map<string, number>; min: number; self: number }[];
}

export type FilterResult = string | null;

export function unschedulableFilter(c: PodContext, n: NodeInfo): FilterResult {
  if (!n.node.spec?.unschedulable) return null;
  if (tolerates(c.tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) return null;
  return 'node(s) were unschedulable';
}

export function nodeAffinityFilter(c: PodContext, n: NodeInfo): FilterResult {
  return nodeAffinityFits(c.pod, n) ? null : "node(s) didn't match Pod's node affinity/selector";
}

export function taintFilter(c: PodContext, n: NodeInfo): FilterResult {
  for (const t of (n.node.spec?.taints ?? []) as Taint[]) {
    if (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') continue;
    if (!tolerates(c.tolerations, t)) return `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;
  }
  return null;
}

/** Returns every resource that does not fit (kube-scheduler counts each separately). */
export function resourceFilter(c: PodContext, n: NodeInfo): string[] {
  const out: string[] = [];
  if ((n.requested.get('pods') ?? 0) + 1 > (n.allocatable.get('pods') ?? 0)) out.push('Too many pods');
  for (const [k, v] of c.requests) {
    if (v <= 0) continue;
    const free = (n.allocatable.get(k) ?? 0) - (n.requested.get(k) ?? 0);
    if (v > free + 1e-9) out.push(`Insufficient ${k}`);
  }
  return out;
}

export function interPodFilter(c: PodContext, n: NodeInfo): FilterResult {
  const t = c.topology;
  if (!t) return null;
  for (const a of t.affinity) {
    const v = n.labels[a.key];
    if (v === undefined) return "node(s) didn't match pod affinity rules";
    // The first pod of a group that selects itself may go anywhere with the key.
    if (!a.values.has(v) && !(!a.anyMatch && a.selfMatch)) return "node(s) didn't match pod affinity rules";
  }
  for (const a of t.antiAffinity) {
    const v = n.labels[a.key];
    if (v !== undefined && a.values.has(v)) return "node(s) didn't match pod anti-affinity rules";
  }
  for (const a of t.existingAnti) {
    const v = n.labels[a.key];
    if (v !== undefined && a.values.has(v)) return "node(s) didn't satisfy existing pods anti-affinity rules";
  }
  return null;
}

export function spreadFilter(c: PodContext, n: NodeInfo): FilterResult {
  for (const s of c.topology?.spread ?? []) {
    const v = n.labels[s.key];
    if (v === undefined) return "node(s) didn't match pod topology spread constraints (missing required label)";
    if ((s.counts.get(v) ?? 0) + s.self - s.min > s.maxSkew) return "node(s) didn't match pod topology spread constraints";
  }
  return null;
}

/** All filters in kube-scheduler's order; returns the reasons this node was rejected (empty = feasible). */
export function runFilters(c: PodContext, n: NodeInfo): string[] {
  const r = unschedulableFilter(c, n) ?? nodeAffinityFilter(c, n) ?? taintFilter(c, n);
  if (r) return [r];
  const res = resourceFilter(c, n);
  if (res.length) return res;
  const p = c.volumes?.filter(n) ?? interPodFilter(c, n) ?? spreadFilter(c, n);
  return p ? [p] : [];
}

/** Does an affinity term (labelSelector + namespaces) select this other pod, as seen from pod's namespace? */
export function termSelects(term: any, ownerNs: string | undefined, other: KubeObject): boolean {
  const nss: string[] = term.namespaces?.length ? term.namespaces : term.namespaceSelector ? [] : [ownerNs ?? 'default'];
  // An empty namespaceSelector ({}) means all namespaces.
  const allNs = term.namespaceSelector && Object.keys(term.namespaceSelector).length === 0;
  if (!allNs && nss.length && !nss.includes(other.metadata.namespace ?? 'default')) return false;
  return labelSelectorMatches(term.labelSelector ?? {}, other.metadata.labels);
}
