// Test-only stand-in for node agents (never shipped): Node objects that run
// nothing, and a loop that makes pods bound to them "Running" with a fake IP
// (never contacted) and Ready after readyDelayMs, unless the pod has the
// annotation fake-kubelet/ready: "false". Graceful deletions are finished at
// once, as a kubelet would after the containers stopped.
import { Informer } from '../../src/kube/client/informer.js';
import { KubeClient, type KubeObject } from '../../src/kube/client/kube-client.js';

const podsRef = { group: '', version: 'v1', resource: 'pods' };
const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
const leasesRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };

export function nodeObject(name: string, opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: unknown[]; unschedulable?: boolean } = {}): KubeObject {
  const res = { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: { capacity: res, allocatable: res, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }] },
  };
}

export class FakeKubelet {
  readonly client: KubeClient;
  private readonly informer: Informer;
  private ip = 1;
  private readonly ips = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly nodes = new Set<string>();

  private constructor(client: KubeClient, private readonly readyDelayMs: number) {
    this.client = client;
    this.informer = new Informer(client, podsRef);
    const h = (p: KubeObject) => void this.sync(p).catch(() => undefined);
    this.informer.addHandlers({ onAdd: h, onUpdate: h });
  }

  static async start(kubeconfig: string, readyDelayMs = 0): Promise<FakeKubelet> {
    const k = new FakeKubelet(await KubeClient.fromKubeconfig(kubeconfig), readyDelayMs);
    await k.informer.start();
    return k;
  }

  async addNode(node: KubeObject): Promise<void> {
    this.nodes.add(node.metadata.name!);
    const created = await this.client.create<KubeObject>(nodesRef, node);
    // A Lease renewed "for an hour": the node lifecycle controller leaves these nodes Ready for the whole test.
    await this.client.create(leasesRef, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: created.metadata.name, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: created.metadata.name, uid: created.metadata.uid }] },
      spec: { holderIdentity: created.metadata.name, leaseDurationSeconds: 3600, renewTime: new Date().toISOString().replace('Z', '000Z').replace(/(\.\d{6})\d*Z$/, '$1Z') },
    });
  }

  private async sync(p: KubeObject): Promise<void> {
    const node = p.spec?.nodeName;
    if (!node || !this.nodes.has(node)) return;
    const ref = { ...podsRef, namespace: p.metadata.namespace };
    if (p.metadata.deletionTimestamp) {
      await this.client.delete(ref, p.metadata.name!, { gracePeriodSeconds: 0, uid: p.metadata.uid });
      return;
    }
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    let ip = this.ips.get(key);
    if (!ip) this.ips.set(key, (ip = `10.244.${Math.floor(this.ip / 250)}.${(this.ip++ % 250) + 1}`));
    const wantReady = p.metadata.annotations?.['fake-kubelet/ready'] !== 'false';
    const ready = (p.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
    const isReady = ready?.status === 'True';
    if (p.status?.phase !== 'Running') {
      await this.patchStatus(p, ip, false);
      if (wantReady) this.later(() => this.patchStatus(p, ip!, true), this.readyDelayMs);
    } else if (wantReady !== isReady && ready) {
      if (wantReady) this.later(() => this.patchStatus(p, ip!, true), this.readyDelayMs);
      else await this.patchStatus(p, ip, false);
    }
  }

  private later(fn: () => Promise<void>, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn().catch(() => undefined);
    }, ms);
    this.timers.add(t);
  }

  private async patchStatus(p: KubeObject, ip: string, ready: boolean): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const s = ready ? 'True' : 'False';
    await this.client.patch(
      { ...podsRef, namespace: p.metadata.namespace },
      p.metadata.name!,
      {
        metadata: { uid: p.metadata.uid },
        status: {
          phase: 'Running',
          podIP: ip,
          podIPs: [{ ip }],
          hostIP: '192.0.2.1',
          startTime: now,
          conditions: [
            { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
            { type: 'Initialized', status: 'True', lastTransitionTime: now },
            { type: 'ContainersReady', status: s, lastTransitionTime: now },
            { type: 'Ready', status: s, lastTransitionTime: now },
          ],
        },
      },
      { subresource: 'status' },
    );
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.informer.stop();
    this.client.close();
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
