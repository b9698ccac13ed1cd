// What a machine-loss trial sees, through watches opened before the loss (t0)
// on the lost node, the workload's pods and its Service's Endpoints; each event
// is stamped with this process's clock on arrival. It answers the bench's two
// questions (when the Endpoints first held none of the dead pods, when every
// replacement was Ready) without polling the API server, whose list answers
// would otherwise compete for the two cores with the pods being started; and,
// for --timeline, when each step on the way was first and last seen.
import type { KubeClient, KubeObject, ResourceRef } from '../../src/kube/client/kube-client.js';

type Step =
  | 'node Ready not True'
  | 'node NoExecute taint'
  | 'dead pods Ready=False'
  | 'endpoints without dead pods'
  | 'dead pods deletionTimestamp'
  | 'dead pods gone'
  | 'replacements created'
  | 'replacements bound'
  | 'replacements podIP'
  | 'replacements Running'
  | 'replacements Ready';

export class TrialTimeline {
  private readonly seen = new Map<Step, number[]>();
  private readonly marked = new Set<string>();
  private readonly abort = new AbortController();
  private readonly watches: Promise<void>[] = [];
  /** Replacement pods (not dead, not terminating) by uid: Ready or not. */
  private readonly replacements = new Map<string, boolean>();
  private t0 = 0;
  /** When the Endpoints first held none of the dead pods' addresses, and when all replacements were first Ready (ms after t0). */
  endpointsClearAt?: number;
  allReadyAt?: number;
  private failed?: Error;

  constructor(
    private readonly client: KubeClient,
    private readonly nodeName: string,
    private readonly app: string,
    private readonly dead: { uids: Set<string>; ips: Set<string>; count: number },
  ) {}

  /** Opens the watches from the current resourceVersions; call before t0. */
  async start(): Promise<void> {
    const pods: ResourceRef = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    const endpoints: ResourceRef = { group: '', version: 'v1', resource: 'endpoints', namespace: 'default' };
    const nodes: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
    const open = async (ref: ResourceRef, sel: { labelSelector?: string; fieldSelector?: string }, on: (type: string, o: KubeObject) => void) => {
      const list = await this.client.list(ref, sel);
      this.watches.push(this.follow(ref, { ...sel, resourceVersion: list.metadata?.resourceVersion }, on));
    };
    await open(pods, { labelSelector: `app=${this.app}` }, (type, p) => this.pod(type, p));
    await open(endpoints, { fieldSelector: `metadata.name=${this.app}` }, (_type, ep) => this.endpoints(ep));
    await open(nodes, { fieldSelector: `metadata.name=${this.nodeName}` }, (_type, n) => this.node(n));
  }

  lost(t0: number): void {
    this.t0 = t0;
  }

  /** Resolves once both answers are in; rejects after limitMs, when `stop()` says so, or when a watch broke. */
  async done(limitMs: number, stop: () => boolean): Promise<void> {
    while (this.endpointsClearAt === undefined || this.allReadyAt === undefined) {
      if (this.failed) throw this.failed;
      if (stop()) throw new Error('interrupted');
      if (Date.now() - this.t0 > limitMs) throw new Error(`trial did not finish in ${limitMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.watches);
  }

  private async follow(ref: ResourceRef, opts: { labelSelector?: string; fieldSelector?: string; resourceVersion?: string }, on: (type: string, o: KubeObject) => void): Promise<void> {
    try {
      for await (const ev of this.client.watch(ref, { ...opts, signal: this.abort.signal, timeoutSeconds: 1800 })) if (ev.type !== 'BOOKMARK') on(ev.type, ev.object);
      if (!this.abort.signal.aborted) this.failed ??= new Error(`watch on ${ref.resource} ended`);
    } catch (err) {
      if (!this.abort.signal.aborted) this.failed ??= new Error(`watch on ${ref.resource}: ${String(err)}`);
    }
  }

  /** Records step for `who` once (its first sighting after t0). */
  private mark(step: Step, who: string): void {
    if (!this.t0) return;
    const k = `${step}|${who}`;
    if (this.marked.has(k)) return;
    this.marked.add(k);
    const list = this.seen.get(step) ?? [];
    list.push(Date.now() - this.t0);
    this.seen.set(step, list);
  }

  private node(n: KubeObject): void {
    const ready = (n.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
    if (ready && ready.status !== 'True') this.mark('node Ready not True', 'node');
    if ((n.spec?.taints ?? []).some((t: { effect: string }) => t.effect === 'NoExecute')) this.mark('node NoExecute taint', 'node');
  }

  private endpoints(ep: KubeObject): void {
    if (!this.t0) return;
    const ips = ((ep.subsets ?? []) as { addresses?: { ip: string }[] }[]).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
    if (this.endpointsClearAt === undefined && !ips.some((ip) => this.dead.ips.has(ip))) {
      this.endpointsClearAt = Date.now() - this.t0;
      this.mark('endpoints without dead pods', 'ep');
    }
  }

  private pod(type: string, p: KubeObject): void {
    const uid = p.metadata.uid!;
    const ready = (p.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready')?.status;
    if (this.dead.uids.has(uid)) {
      if (ready === 'False') this.mark('dead pods Ready=False', uid);
      if (p.metadata.deletionTimestamp) this.mark('dead pods deletionTimestamp', uid);
      if (type === 'DELETED') this.mark('dead pods gone', uid);
      return;
    }
    this.mark('replacements created', uid);
    if (p.spec?.nodeName) this.mark('replacements bound', uid);
    if (p.status?.podIP) this.mark('replacements podIP', uid);
    if (p.status?.phase === 'Running') this.mark('replacements Running', uid);
    if (ready === 'True') this.mark('replacements Ready', uid);
    if (type === 'DELETED' || p.metadata.deletionTimestamp) this.replacements.delete(uid);
    else this.replacements.set(uid, ready === 'True');
    if (this.t0 && this.allReadyAt === undefined && this.replacements.size === this.dead.count && [...this.replacements.values()].every(Boolean)) this.allReadyAt = Date.now() - this.t0;
  }

  /** One line per step, in order of first sighting: how many, first, median and last, in seconds after the loss. */
  report(): string {
    const s = (ms: number) => (ms / 1000).toFixed(2).padStart(6);
    const steps = [...this.seen].map(([step, times]) => [step, [...times].sort((a, b) => a - b)] as const).sort((a, b) => a[1][0]! - b[1][0]!);
    return steps.map(([step, t]) => `  ${step.padEnd(28)} n=${String(t.length).padStart(3)}  first ${s(t[0]!)}  median ${s(t[Math.floor((t.length - 1) / 2)]!)}  last ${s(t[t.length - 1]!)}`).join('\n');
  }
}
