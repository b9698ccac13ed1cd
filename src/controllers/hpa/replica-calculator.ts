// How many replicas a Resource metric asks for, as kube-controller-manager's
// replica calculator decides it: desired = ceil(ready pods x usage / target),
// unless the ratio is within the tolerance (10%) of 1. Pods are grouped
// first: deleted or failed pods are ignored, pending and (for cpu) not-yet-
// ready pods are "unready", running pods without a metric are "missing". On a
// scale-up, unready and missing pods count as using nothing; on a scale-down,
// missing pods count as using exactly their request (utilization) or the
// target (average value): the autoscaler never over-reacts to pods it cannot
// see. Values are milli-units (millicores, millibytes) as Kubernetes' are.
// Pure functions: the controller passes pods, metrics and the clock.

export const DEFAULT_TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-cpu-initialization-period and --...-initial-readiness-delay defaults. */
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
export const DELAY_OF_INITIAL_READINESS_STATUS_MS = 30_000;

export interface PodFacts {
  name: string;
  phase?: string;
  deleting: boolean;
  /** status.startTime, ms. */
  startTime?: number;
  ready?: { status: string; lastTransitionTime: number };
  /** Per container (regular ones and restartable init containers): the request of the resource in milli-units, undefined when it has none. */
  containers: Array<{ name: string; request?: number }>;
}

export interface PodMetric {
  /** milli-units */
  value: number;
  timestamp: number;
  windowMs: number;
}

export type PodMetrics = Map<string, PodMetric>;

export interface Calculation {
  replicas: number;
  /** Utilization targets: percent of request; average value targets: undefined. */
  utilization?: number;
  /** The average usage per pod in milli-units. */
  rawAverage: number;
  timestamp: number;
}

export interface CalcOptions {
  tolerance?: number;
  now?: number;
  cpuInitializationPeriodMs?: number;
  delayOfInitialReadinessStatusMs?: number;
}

interface Groups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

export function groupPods(pods: PodFacts[], metrics: PodMetrics, resource: string, o: CalcOptions = {}): Groups {
  const now = o.now ?? Date.now();
  const initPeriod = o.cpuInitializationPeriodMs ?? CPU_INITIALIZATION_PERIOD_MS;
  const readinessDelay = o.delayOfInitialReadinessStatusMs ?? DELAY_OF_INITIAL_READINESS_STATUS_MS;
  const g: Groups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const p of pods) {
    if (p.deleting || p.phase === 'Failed') {
      g.ignored.add(p.name);
      continue;
    }
    if (p.phase === 'Pending') {
      g.unready.add(p.name);
      continue;
    }
    const m = metrics.get(p.name);
    if (!m) {
      g.missing.add(p.name);
      continue;
    }
    if (resource === 'cpu') {
      let unready: boolean;
      if (!p.ready || p.startTime === undefined) unready = true;
      else if (p.startTime + initPeriod > now) {
        // Still starting: a sample counts once it covers a whole window after the pod became ready.
        unready = p.ready.status === 'False' || m.timestamp < p.ready.lastTransitionTime + m.windowMs;
      } else {
        // Unready and never ready since it started.
        unready = p.ready.status === 'False' && p.startTime + readinessDelay > p.ready.lastTransitionTime;
      }
      if (unready) {
        g.unready.add(p.name);
        continue;
      }
    }
    g.readyPodCount++;
  }
  return g;
}

/** Each pod's summed request, or the error Kubernetes reports for a container without one. */
export function podRequests(pods: PodFacts[], resource: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pods) {
    let sum = 0;
    for (const c of p.containers) {
      if (c.request === undefined) throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${p.name}`);
      sum += c.request;
    }
    out.set(p.name, sum);
  }
  return out;
}

/** Kubernetes' GetResourceUtilizationRatio: utilization is a whole percent, the ratio is computed from it. */
export function utilizationRatio(metrics: PodMetrics, requests: Map<string, number>, target: number): { ratio: number; utilization: number; rawAverage: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [pod, m] of metrics) {
    const r = requests.get(pod);
    if (r === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += r;
    entries++;
  }
  if (requestsTotal === 0) throw new Error('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / target, utilization, rawAverage: Math.trunc(metricsTotal / entries) };
}

function averageRatio(metrics: PodMetrics, target: number): { ratio: number; rawAverage: number } {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const rawAverage = Math.trunc(total / metrics.size);
  return { ratio: rawAverage / target, rawAverage };
}

/**
 * Desired replicas for one Resource metric. target: a percent of request
 * (utilization) or a milli-value per pod (averageValue). Throws with
 * Kubernetes' messages when it cannot decide.
 */
export function resourceReplicas(
  currentReplicas: number,
  target: { utilization?: number; averageValue?: number },
  resource: string,
  pods: PodFacts[],
  metricsIn: PodMetrics,
  o: CalcOptions = {},
): Calculation {
  const tolerance = o.tolerance ?? DEFAULT_TOLERANCE;
  if (!pods.length) throw new Error('no pods returned by selector while calculating replica count');
  const metrics: PodMetrics = new Map(metricsIn);
  const timestamp = [...metricsIn.values()][0]?.timestamp ?? 0;
  const g = groupPods(pods, metrics, resource, o);
  for (const name of [...g.ignored, ...g.unready]) metrics.delete(name);
  const byUtilization = target.utilization !== undefined;
  const requests = byUtilization ? podRequests(pods, resource) : undefined;
  if (!metrics.size) throw new Error('did not receive metrics for targeted pods (pods might be unready)');

  const ratioOf = (m: PodMetrics): { ratio: number; rawAverage: number; utilization?: number } => (byUtilization ? utilizationRatio(m, requests!, target.utilization!) : averageRatio(m, target.averageValue!));
  const first = ratioOf(metrics);
  const result = (replicas: number): Calculation => ({ replicas, utilization: first.utilization, rawAverage: first.rawAverage, timestamp });
  const usageRatio = first.ratio;

  const rebalanceUnready = g.unready.size > 0 && usageRatio > 1;
  if (!rebalanceUnready && !g.missing.size) {
    if (Math.abs(1 - usageRatio) <= tolerance) return result(currentReplicas);
    return result(Math.ceil(usageRatio * g.readyPodCount));
  }
  if (g.missing.size) {
    for (const name of g.missing) {
      // Scale-down: a missing pod is taken to use exactly what it should; scale-up: nothing.
      const full = byUtilization ? requests!.get(name)! : target.averageValue!;
      metrics.set(name, { value: usageRatio < 1 ? full : 0, timestamp, windowMs: 0 });
    }
  }
  if (rebalanceUnready) for (const name of g.unready) metrics.set(name, { value: 0, timestamp, windowMs: 0 });
  const newRatio = ratioOf(metrics).ratio;
  // No change when it is small, or when counting the unseen pods flips the direction.
  if (Math.abs(1 - newRatio) <= tolerance || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1)) return result(currentReplicas);
  const replicas = Math.ceil(newRatio * metrics.size);
  if ((newRatio < 1 && replicas > currentReplicas) || (newRatio > 1 && replicas < currentReplicas)) return result(currentReplicas);
  return result(replicas);
}
