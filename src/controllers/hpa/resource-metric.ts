// One Resource (or ContainerResource) metric of an HPA: the pods' usage from
// metrics.k8s.io (as kube-controller-manager's resource metrics client reads
// it), the pods' requests from the informer, the replica calculator's answer,
// and the MetricStatus and messages Kubernetes writes for it.
import type { KubeApi, KubeObject } from '../../kube/client/kube-client.js';
import { parseQuantity } from '../../kube/api/quantity.js';
import { resourceReplicas, type CalcOptions, type PodFacts, type PodMetrics } from './replica-calculator.js';

export interface MetricResult {
  replicas: number;
  /** "cpu resource utilization (percentage of request)" and the like. */
  metricName: string;
  status: Record<string, unknown>;
  timestamp: number;
}

/** An error with the condition reason it sets (ScalingActive False). */
export class MetricError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    /** What the error reads as in "invalid metrics ..., first error is: ...". */
    readonly wrapped: string,
  ) {
    super(message);
  }
}

/** A quantity's milli-value, rounded up as Kubernetes' MilliValue (1n of cpu is 1m). */
export function milliValue(q: unknown): number | undefined {
  const v = parseQuantity(q as string | number | undefined);
  return v === undefined ? undefined : Math.ceil(v * 1000 - 1e-6);
}

/** A milli-value as a canonical decimal quantity: "250m", "3", "12k", "12632064". */
export function milliQuantity(m: number): string {
  const v = Math.round(m);
  if (v % 1000 !== 0) return `${v}m`;
  let n = v / 1000;
  if (n === 0) return '0';
  let i = 0;
  const suffixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  while (n % 1000 === 0 && i < suffixes.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n}${suffixes[i]}`;
}

const time = (s: unknown): number | undefined => {
  const t = Date.parse(String(s ?? ''));
  return Number.isFinite(t) ? t : undefined;
};

/** Go's time.ParseDuration for metav1.Duration ("1.5s", "1m0.5s", "15s"). */
function durationMs(s: unknown): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of String(s ?? '').matchAll(re)) total += Number(m[1]) * unit[m[2]!]!;
  return total;
}

/** What the calculator needs of a pod: phase, readiness, start, and the requests of its containers. */
export function podFacts(p: KubeObject, resource: string, container?: string): PodFacts {
  const ready = (p.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
  // Regular containers and restartable (sidecar) init containers, as Kubernetes counts them.
  const all = [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? []).filter((c: { restartPolicy?: string }) => c.restartPolicy === 'Always')];
  return {
    name: p.metadata.name!,
    phase: p.status?.phase,
    deleting: Boolean(p.metadata.deletionTimestamp),
    startTime: time(p.status?.startTime),
    ready: ready ? { status: ready.status, lastTransitionTime: time(ready.lastTransitionTime) ?? 0 } : undefined,
    containers: all.filter((c: { name: string }) => !container || c.name === container).map((c: { name: string; resources?: { requests?: Record<string, string> } }) => ({ name: c.name, request: milliValue(c.resources?.requests?.[resource]) })),
  };
}

/** PodMetrics items -> pod name -> summed usage; a pod with a container lacking the resource is left out. */
export function podUsage(items: KubeObject[], resource: string, container?: string): PodMetrics {
  const out: PodMetrics = new Map();
  for (const m of items) {
    const cs = ((m.containers ?? []) as Array<{ name: string; usage?: Record<string, string> }>).filter((c) => !container || c.name === container);
    if (!cs.length) continue;
    let sum = 0;
    let complete = true;
    for (const c of cs) {
      const v = milliValue(c.usage?.[resource]);
      if (v === undefined) complete = false;
      else sum += v;
    }
    if (complete) out.set(m.metadata.name!, { value: sum, timestamp: time(m.timestamp) ?? 0, windowMs: durationMs(m.window) });
  }
  return out;
}

export interface MetricSpec {
  type: string;
  resource?: { name: string; target?: { type?: string; averageUtilization?: number; averageValue?: string | number } };
  containerResource?: { name: string; container: string; target?: { type?: string; averageUtilization?: number; averageValue?: string | number } };
  pods?: { metric?: { name?: string } };
  object?: { metric?: { name?: string } };
  external?: { metric?: { name?: string } };
}

/**
 * Desired replicas for one Resource/ContainerResource metric. `pods` are the
 * target's pods (the scale selector's); metrics come from the API with the
 * same selector. Throws MetricError with Kubernetes' reason and message.
 */
export async function resourceMetricReplicas(client: Pick<KubeApi, 'list'>, namespace: string, selector: string, spec: MetricSpec, currentReplicas: number, pods: KubeObject[], o: CalcOptions): Promise<MetricResult> {
  const container = spec.type === 'ContainerResource' ? spec.containerResource?.container : undefined;
  const src = spec.type === 'ContainerResource' ? spec.containerResource : spec.resource;
  const resource = src?.name ?? '';
  const reason = container ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
  const wrapPrefix = container ? `failed to get ${container} container metric value: ` : `failed to get ${resource} resource metric value: `;
  const fail = (msg: string): MetricError => new MetricError(reason, msg, wrapPrefix + msg);
  const target = src?.target ?? {};
  const averageValue = target.averageValue !== undefined ? milliValue(target.averageValue) : undefined;
  if (averageValue === undefined && target.averageUtilization === undefined) {
    throw fail('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
  }
  const what = averageValue !== undefined ? `failed to get ${resource} usage` : `failed to get ${resource} utilization`;
  let items: KubeObject[];
  try {
    items = (await client.list({ group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods', namespace }, { labelSelector: selector })).items;
  } catch (err) {
    throw fail(`${what}: unable to get metrics for resource ${resource}: unable to fetch metrics from resource metrics API: ${(err as Error).message}`);
  }
  if (!items.length) throw fail(`${what}: unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
  const metrics = podUsage(items, resource, container);
  const facts = pods.map((p) => podFacts(p, resource, container));
  let calc;
  try {
    calc = resourceReplicas(currentReplicas, averageValue !== undefined ? { averageValue } : { utilization: target.averageUtilization }, resource, facts, metrics, o);
  } catch (err) {
    throw fail(`${what}: ${(err as Error).message}`);
  }
  const current: Record<string, unknown> = averageValue !== undefined ? { averageValue: milliQuantity(calc.rawAverage) } : { averageUtilization: calc.utilization, averageValue: milliQuantity(calc.rawAverage) };
  const status = container ? { type: 'ContainerResource', containerResource: { name: resource, container, current } } : { type: 'Resource', resource: { name: resource, current } };
  const metricName =
    averageValue !== undefined ? `${resource} resource` : container ? `${resource} container resource utilization (percentage of request)` : `${resource} resource utilization (percentage of request)`;
  return { replicas: calc.replicas, metricName, status, timestamp: calc.timestamp };
}
