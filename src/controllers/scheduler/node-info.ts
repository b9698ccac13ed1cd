// The scheduler's in-memory view of each node: allocatable resources, what
// the pods assigned to it (bound or only assumed) request, and those pods, so
// filtering a pod never needs an API call.
import { parseQuantity } from '../../kube/api/quantity.js';
import type { KubeObject } from '../../kube/client/kube-client.js';

export type Resources = Map<string, number>;

/** The pod's effective request per resource: sum over containers, at least the largest init container. */
export function podRequests(pod: KubeObject): Resources {
  const out: Resources = new Map();
  for (const c of pod.spec?.containers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.requests ?? {})) out.set(k, (out.get(k) ?? 0) + (parseQuantity(v as string) ?? 0));
  }
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.requests ?? {})) out.set(k, Math.max(out.get(k) ?? 0, parseQuantity(v as string) ?? 0));
  }
  for (const [k, v] of Object.entries(pod.spec?.overhead ?? {})) out.set(k, (out.get(k) ?? 0) + (parseQuantity(v as string) ?? 0));
  return out;
}

// As kube-scheduler: for scoring, a pod without requests still counts as a little,
// so empty pods spread instead of piling onto one node.
const nonZeroCpu = 0.1;
const nonZeroMemory = 200 * 2 ** 20;

export interface PodEntry {
  key: string;
  pod: KubeObject;
  requests: Resources;
}

export class NodeInfo {
  allocatable: Resources = new Map();
  readonly requested: Resources = new Map();
  /** Non-zero cpu/memory for scoring. */
  scoreCpu = 0;
  scoreMem = 0;
  readonly pods = new Map<string, PodEntry>();

  constructor(public node: KubeObject) {
    this.setNode(node);
  }

  get name(): string {
    return this.node.metadata.name!;
  }

  get labels(): Record<string, string> {
    return this.node.metadata.labels ?? {};
  }

  setNode(node: KubeObject): void {
    this.node = node;
    const alloc: Resources = new Map();
    for (const [k, v] of Object.entries(node.status?.allocatable ?? node.status?.capacity ?? {})) alloc.set(k, parseQuantity(v as string) ?? 0);
    // A node that reports no pod capacity still takes the kubelet default.
    if (!alloc.has('pods')) alloc.set('pods', 110);
    this.allocatable = alloc;
  }

  addPod(e: PodEntry): void {
    if (this.pods.has(e.key)) this.removePod(e.key);
    this.pods.set(e.key, e);
    this.adjust(e.requests, 1);
  }

  removePod(key: string): void {
    const e = this.pods.get(key);
    if (!e) return;
    this.pods.delete(key);
    this.adjust(e.requests, -1);
  }

  private adjust(req: Resources, sign: 1 | -1): void {
    for (const [k, v] of req) this.requested.set(k, (this.requested.get(k) ?? 0) + sign * v);
    this.requested.set('pods', (this.requested.get('pods') ?? 0) + sign);
    this.scoreCpu += sign * (req.get('cpu') || nonZeroCpu);
    this.scoreMem += sign * (req.get('memory') || nonZeroMemory);
  }
}

export function scoreRequests(req: Resources): { cpu: number; mem: number } {
  return { cpu: req.get('cpu') || nonZeroCpu, mem: req.get('memory') || nonZeroMemory };
}
