// Scoring among feasible nodes, as kube-scheduler's default plugins:
// NodeResourcesFit (LeastAllocated), NodeResourcesBalancedAllocation,
// NodeAffinity (preferred terms), TaintToleration (PreferNoSchedule),
// InterPodAffinity (preferred terms) and PodTopologySpread (ScheduleAnyway).
// Each plugin scores 0-100; plugins that depend on others are normalized
// over the candidate set.
import { labelSelectorMatches } from '../../kube/api/selectors.js';
import type { KubeObject } from '../../kube/client/kube-client.js';
import { matchesNodeSelectorTerms, termSelects, tolerates, type PodContext, type Taint } from './filters.js';
import { scoreRequests, type NodeInfo } from './node-info.js';

function resourceScores(c: PodContext, n: NodeInfo): number {
  const req = scoreRequests(c.requests);
  const allocCpu = n.allocatable.get('cpu') ?? 0;
  const allocMem = n.allocatable.get('memory') ?? 0;
  const cpuFrac = allocCpu > 0 ? Math.min(1, (n.scoreCpu + req.cpu) / allocCpu) : 1;
  const memFrac = allocMem > 0 ? Math.min(1, (n.scoreMem + req.mem) / allocMem) : 1;
  const least = ((1 - cpuFrac) + (1 - memFrac)) * 50;
  const balanced = (1 - Math.abs(cpuFrac - memFrac)) * 100;
  return least + balanced;
}

/** Does the pod carry any preference that needs normalized per-node scores? */
function preferenceScorers(pod: KubeObject): ((n: NodeInfo) => number)[] {
  const out: ((n: NodeInfo) => number)[] = [];
  const prefNode: any[] = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  if (prefNode.length) out.push((n) => prefNode.reduce((s, p) => s + (matchesNodeSelectorTerms([p.preference], n) ? p.weight ?? 0 : 0), 0));
  const tols = pod.spec?.tolerations ?? [];
  out.push((n) => -((n.node.spec?.taints ?? []) as Taint[]).filter((t) => t.effect === 'PreferNoSchedule' && !tolerates(tols, t)).length);
  const ns = pod.metadata.namespace;
  const prefAff: any[] = pod.spec?.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const prefAnti: any[] = pod.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const soft = (pod.spec?.topologySpreadConstraints ?? []).filter((s: any) => s.whenUnsatisfiable === 'ScheduleAnyway');
  if (prefAff.length || prefAnti.length || soft.length) {
    out.push((n) => {
      // Computed lazily per candidate from the domain's pods; candidates are few (sampled).
      let s = 0;
      for (const w of prefAff) s += w.weight * countInDomain(n, w.podAffinityTerm.topologyKey, (o) => termSelects(w.podAffinityTerm, ns, o));
      for (const w of prefAnti) s -= w.weight * countInDomain(n, w.podAffinityTerm.topologyKey, (o) => termSelects(w.podAffinityTerm, ns, o));
      for (const c of soft) s -= countInDomain(n, c.topologyKey, (o) => o.metadata.namespace === ns && labelSelectorMatches(c.labelSelector ?? {}, o.metadata.labels));
      return s;
    });
  }
  return out;
}

// Filled by the scheduler before scoring: all nodes, for domain lookups.
let allNodes: Iterable<NodeInfo> = [];
export function setScoringNodes(nodes: Iterable<NodeInfo>): void {
  allNodes = nodes;
}

function countInDomain(n: NodeInfo, key: string, match: (o: KubeObject) => boolean): number {
  const v = n.labels[key];
  if (v === undefined) return 0;
  let count = 0;
  for (const other of allNodes) {
    if (other.labels[key] !== v) continue;
    for (const e of other.pods.values()) if (match(e.pod)) count++;
  }
  return count;
}

/** Picks the best node among feasible ones (ties broken at random, so equal nodes share load). */
export function pickNode(c: PodContext, feasible: NodeInfo[]): NodeInfo {
  if (feasible.length === 1) return feasible[0];
  const totals = feasible.map((n) => resourceScores(c, n));
  for (const scorer of preferenceScorers(c.pod)) {
    const raw = feasible.map(scorer);
    const max = Math.max(...raw);
    const min = Math.min(...raw);
    if (max === min) continue;
    raw.forEach((r, i) => (totals[i] += ((r - min) / (max - min)) * 100));
  }
  let best = 0;
  let ties = 1;
  for (let i = 1; i < totals.length; i++) {
    if (totals[i] > totals[best] + 1e-9) {
      best = i;
      ties = 1;
    } else if (Math.abs(totals[i] - totals[best]) <= 1e-9 && Math.random() * ++ties < 1) best = i;
  }
  return feasible[best];
}
