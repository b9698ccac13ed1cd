// The agent's two heartbeats, as the kubelet's: a Lease in kube-node-lease
// renewed every quarter of its duration (cheap: one small PATCH), and the Node's
// status posted on a slower cadence, or at once when the Node in the API says
// something else than the agent would (the node lifecycle controller marked it
// Unknown while the agent was away, or the object was recreated).
import { messageOf, TugError } from '../../errdefs.js';
import type { KubeClient, KubeObject } from '../../kube/client/kube-client.js';
import { Informer } from '../../kube/client/informer.js';
import { traceAgent } from './sync-trace.js';
import { leasesRef, microTime, nodesRef, readyAgain, renewLease, renewedLeaseSpec, takeOverEarlyRenewals } from './heartbeat-writes.js';

export { DEFAULT_NODE_LEASE_DURATION_SECONDS, DEFAULT_RESTART_HOLD_SECONDS, leasesRef, microTime, nodesRef, readyAgain } from './heartbeat-writes.js';
/** Node status is posted this often even when nothing changed (the kubelet's nodeStatusReportFrequency role). */
const NODE_STATUS_MS = 10_000;

export interface NodeLeaseOptions {
  client: KubeClient;
  nodeName: string;
  leaseDurationSeconds: number;
  log: (msg: string) => void;
}

/**
 * The Lease half of the heartbeat, on its own so that a starting agent can
 * renew it first thing (its Node exists and its name is claimed), before the
 * slow part of a start (the engine recovering every container), and a stopping
 * one last: an agent restart then leaves the node lifecycle controller only the
 * time between two processes without a renewal.
 */
export class NodeLease {
  private timer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  /** What each renewal says the Lease lasts: the configured duration, or a stop's hold. */
  private duration: number;

  constructor(private readonly o: NodeLeaseOptions) {
    this.duration = o.leaseDurationSeconds;
  }

  /** One renewal before returning, then one every quarter of the Lease's duration. */
  async start(): Promise<void> {
    await this.renew();
    traceAgent?.('lease renewed');
    // A restart's early renewer (bin/tug, early-lease.ts) renewed it while this process loaded: from here on this does.
    if (takeOverEarlyRenewals()) traceAgent?.('early renewals stopped (the agent renews now)');
    const renewMs = (this.o.leaseDurationSeconds * 1000) / 4;
    this.timer = setInterval(() => void this.renew().catch((err) => this.o.log(`lease: ${messageOf(err)}`)), renewMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * A clean stop that leaves pods running: from now on each renewal (this one
   * at once, then the usual ones until the process exits) says the Lease lasts
   * `seconds`, so the node stays Ready through the stop and the restart,
   * however slow the stop is on a loaded machine (the next agent's first
   * renewal puts the usual duration back).
   */
  async hold(seconds: number): Promise<void> {
    this.duration = seconds;
    await this.renewNow();
    traceAgent?.(`stop: lease held for ${seconds} s`);
    // Marked Unknown while this loaded machine was slow to renew: the pods run, and the hold covers the restart.
    if (await readyAgain(this.o.client, this.o.nodeName, microTime().replace(/\.\d+Z$/, 'Z'))) traceAgent?.('stop: node Ready again');
  }

  /** The hold given back (the stop ended with no pod left): one renewal with the usual duration. */
  async release(): Promise<void> {
    if (this.duration === this.o.leaseDurationSeconds) return;
    this.duration = this.o.leaseDurationSeconds;
    await this.renewNow();
    traceAgent?.('stop: lease hold given back');
  }

  /** One renewal, unless one is in flight already (a slow server must not pile renewals up). */
  async renew(): Promise<void> {
    if (this.renewing) return;
    await this.renewNow();
  }

  /** One renewal with the duration as it is now: after the one in flight, which may say the old one. */
  private async renewNow(): Promise<void> {
    while (this.renewing) await this.renewing.catch(() => undefined);
    this.renewing = this.renewOnce(this.duration);
    try {
      await this.renewing;
    } finally {
      this.renewing = undefined;
    }
  }

  private async renewOnce(duration: number): Promise<void> {
    try {
      await renewLease(this.o.client, this.o.nodeName, duration);
    } catch (err) {
      if (!(err instanceof TugError && err.kind === 'not-found')) throw err;
      // The Lease belongs to the Node: deleting the Node takes its Lease with it.
      const node = await this.o.client.get<KubeObject>(nodesRef, this.o.nodeName);
      const owner = { apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid: node.metadata.uid };
      const spec = renewedLeaseSpec(this.o.nodeName, duration);
      await this.o.client.create(leasesRef, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.nodeName, ownerReferences: [owner] }, spec }).catch((e) => {
        if (!(e instanceof TugError && e.kind === 'already-exists')) throw e;
      });
    }
  }
}

export interface NodeHeartbeatOptions extends NodeLeaseOptions {
  /** The Node's status as the agent sees it now. */
  status(): Record<string, unknown>;
  /** A Lease already being renewed (started and stopped by its owner); without one the heartbeat renews its own. */
  lease?: NodeLease;
}

export class NodeHeartbeat {
  private statusTimer?: NodeJS.Timeout;
  private posting = false;
  private lastPosted = 0;
  private readonly node: Informer;
  private readonly ownLease?: NodeLease;

  constructor(private readonly o: NodeHeartbeatOptions) {
    if (!o.lease) this.ownLease = new NodeLease(o);
    this.node = new Informer(o.client, nodesRef, { fieldSelector: `metadata.name=${o.nodeName}` });
    this.node.addHandlers({ onAdd: (n) => this.onNode(n), onUpdate: (n) => this.onNode(n) });
  }

  /** The Lease renewed (unless its owner does that) and one status post before returning, then both on their cadence. */
  async start(): Promise<void> {
    await this.ownLease?.start();
    await this.postStatus();
    traceAgent?.('node status posted');
    await this.node.start();
    this.statusTimer = setInterval(() => {
      if (Date.now() - this.lastPosted >= NODE_STATUS_MS) void this.postStatus().catch((err) => this.o.log(`node status: ${messageOf(err)}`));
    }, 1000);
    this.statusTimer.unref();
  }

  stop(): void {
    this.ownLease?.stop();
    clearInterval(this.statusTimer);
    this.node.stop();
  }

  private onNode(n: KubeObject): void {
    const ready = (n.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
    if (ready?.status !== 'True') void this.postStatus().catch((err) => this.o.log(`node status: ${messageOf(err)}`));
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
