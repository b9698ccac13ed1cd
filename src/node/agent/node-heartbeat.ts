// The agent's two heartbeats, as the kubelet's: a Lease in kube-node-lease
// renewed every quarter of its duration (cheap: one small PATCH), and the Node's
// status posted on a slower cadence, or at once when the Node in the API says
// something else than the agent would (the node lifecycle controller marked it
// Unknown while the agent was away, or the object was recreated).
import { messageOf, TugError } from '../../errdefs.js';
import type { KubeClient, KubeObject } from '../../kube/client/kube-client.js';
import { Informer } from '../../kube/client/informer.js';

export const nodesRef = { group: '', version: 'v1', resource: 'nodes' };
export const leasesRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };

/** tug's default Lease duration: renewed every 500 ms; see the README (node loss) for why. */
export const DEFAULT_NODE_LEASE_DURATION_SECONDS = 2;
/** Node status is posted this often even when nothing changed (the kubelet's nodeStatusReportFrequency role). */
const NODE_STATUS_MS = 10_000;

export interface NodeHeartbeatOptions {
  client: KubeClient;
  nodeName: string;
  leaseDurationSeconds: number;
  /** The Node's status as the agent sees it now. */
  status(): Record<string, unknown>;
  log: (msg: string) => void;
}

/** A Lease's MicroTime: RFC 3339 with microseconds. */
export function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class NodeHeartbeat {
  private leaseTimer?: NodeJS.Timeout;
  private statusTimer?: NodeJS.Timeout;
  private renewing = false;
  private posting = false;
  private lastPosted = 0;
  private readonly node: Informer;

  constructor(private readonly o: NodeHeartbeatOptions) {
    this.node = new Informer(o.client, nodesRef, { fieldSelector: `metadata.name=${o.nodeName}` });
    this.node.addHandlers({ onAdd: (n) => this.onNode(n), onUpdate: (n) => this.onNode(n) });
  }

  /** One renewal and one status post before returning, then both on their cadence. */
  async start(): Promise<void> {
    await this.renewLease();
    await this.postStatus();
    await this.node.start();
    const renewMs = (this.o.leaseDurationSeconds * 1000) / 4;
    this.leaseTimer = setInterval(() => void this.renewLease().catch((err) => this.o.log(`lease: ${messageOf(err)}`)), renewMs);
    this.statusTimer = setInterval(() => {
      if (Date.now() - this.lastPosted >= NODE_STATUS_MS) void this.postStatus().catch((err) => this.o.log(`node status: ${messageOf(err)}`));
    }, 1000);
    this.leaseTimer.unref();
    this.statusTimer.unref();
  }

  stop(): void {
    clearInterval(this.leaseTimer);
    clearInterval(this.statusTimer);
    this.node.stop();
  }

  private onNode(n: KubeObject): void {
    const ready = (n.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
    if (ready?.status !== 'True') void this.postStatus().catch((err) => this.o.log(`node status: ${messageOf(err)}`));
  }

  async renewLease(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      const spec = { holderIdentity: this.o.nodeName, leaseDurationSeconds: this.o.leaseDurationSeconds, renewTime: microTime() };
      try {
        await this.o.client.patch(leasesRef, this.o.nodeName, { spec }, { patchType: 'merge' });
      } catch (err) {
        if (!(err instanceof TugError && err.kind === 'not-found')) throw err;
        // The Lease belongs to the Node: deleting the Node takes its Lease with it.
        const node = await this.o.client.get<KubeObject>(nodesRef, this.o.nodeName);
        const owner = { apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid: node.metadata.uid };
        await this.o.client.create(leasesRef, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.nodeName, ownerReferences: [owner] }, spec }).catch((e) => {
          if (!(e instanceof TugError && e.kind === 'already-exists')) throw e;
        });
      }
    } finally {
      this.renewing = false;
    }
  }

  async postStatus(): Promise<void> {
    if (this.posting) return;
    this.posting = true;
    try {
      await this.o.client.patch(nodesRef, this.o.nodeName, { status: this.o.status() }, { subresource: 'status' });
      this.lastPosted = Date.now();
    } finally {
      this.posting = false;
    }
  }
}
