// The node agent (what the kubelet is to Kubernetes): registers this Node,
// heartbeats through a Lease and node status, and runs the pods bound to this
// node through the engine: informer on pods with spec.nodeName == node →
// work queue → PodSyncer.sync(key). Engine container exits requeue their pod.
import type { Engine } from '../../engine/engine.js';
import type { ContainerService } from '../../engine/container-service.js';
import type { ExecService } from '../../engine/exec-service.js';
import { messageOf, TugError } from '../../errdefs.js';
import type { KubeClient, KubeObject } from '../../kube/client/kube-client.js';
import { ownNodePassword } from './node-identity.js';
import { Informer } from '../../kube/client/informer.js';
import { WorkQueue } from '../../kube/client/work-queue.js';
import { PodSyncer } from './pod-syncer.js';
import { podUidsInEngine } from './pod-runtime.js';
import { L } from './labels.js';
import { nodeObject, nodeStatus, type NodeFacts } from './node-status.js';
import { DEFAULT_NODE_LEASE_DURATION_SECONDS, NodeHeartbeat, nodesRef, type NodeLease } from './node-heartbeat.js';
import type { Pod } from './pod-types.js';
import type { ServiceEnv } from './service-env.js';
import type { PodDns } from '../dns/pod-dns.js';
import { LocalVolumes } from './local-volumes.js';
import { NODE_LOCAL_PATH_DIR } from '../../kube/api/storage.js';
import type { AgentMetrics } from './agent-metrics.js';
import { traceAgent, tracePod } from './sync-trace.js';

/** The pod informer's resync: every pod is looked at again this often. */
const RESYNC_MS = 10_000;
/** Pods synced at once. */
const POD_WORKERS = Number(process.env.TUG_POD_WORKERS) || 4;

export interface NodeAgentOptions {
  client: KubeClient;
  engine: Engine;
  /** The engine's door: pods are made, run and exec'd into through it. */
  containers: ContainerService;
  /** Where pod start durations are recorded (GET /metrics of the agent server). */
  metrics?: AgentMetrics;
  /** The agent's own state (pod volumes). */
  dataDir: string;
  facts: NodeFacts;
  /** This agent's pods' service variables and cluster DNS, which its node services fill in. */
  serviceEnv: ServiceEnv;
  podDns: PodDns;
  /** The node Lease's duration (renewed every quarter of it); the node lifecycle controller's grace period should match. */
  leaseDurationSeconds?: number;
  /** The node Lease, when the caller renews it already (from before this agent starts to after it stops). */
  lease?: NodeLease;
  log?: (msg: string) => void;
}

export class NodeAgent {
  readonly execs: ExecService;
  private readonly queue = new WorkQueue({ baseDelayMs: 500, maxDelayMs: 30_000 });
  private readonly informer: Informer<Pod>;
  private readonly syncer: PodSyncer;
  private readonly localVolumes: LocalVolumes;
  private heartbeat?: NodeHeartbeat;
  private unsubscribe?: () => void;
  private workers?: Promise<void[]>;
  private readonly bootTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  private readonly log: (msg: string) => void;

  constructor(private readonly o: NodeAgentOptions) {
    this.log = o.log ?? ((m) => process.stderr.write(`tug agent: ${m}\n`));
    this.execs = o.containers.execs;
    this.localVolumes = new LocalVolumes(o.client, o.dataDir, o.facts.name, this.log);
    this.informer = new Informer<Pod>(o.client, { group: '', version: 'v1', resource: 'pods' }, { fieldSelector: `spec.nodeName=${o.facts.name}`, resyncMs: RESYNC_MS });
    this.syncer = new PodSyncer({
      engine: o.engine,
      containers: o.containers,
      execs: this.execs,
      client: o.client,
      dataDir: o.dataDir,
      nodeName: o.facts.name,
      hostIP: o.facts.hostIP,
      nodeCpu: o.facts.cpu,
      nodeMemory: o.facts.memoryBytes,
      serviceEnv: o.serviceEnv,
      podDns: o.podDns,
      localVolumes: this.localVolumes,
      requeue: (key, delayMs) => (delayMs ? this.queue.addAfter(key, delayMs) : this.queue.add(key)),
      log: this.log,
    });
  }

  get nodeName(): string {
    return this.o.facts.name;
  }

  async start(): Promise<void> {
    await this.register();
    let lastError = '';
    this.heartbeat = new NodeHeartbeat({
      client: this.o.client,
      nodeName: this.o.facts.name,
      leaseDurationSeconds: this.o.leaseDurationSeconds ?? DEFAULT_NODE_LEASE_DURATION_SECONDS,
      lease: this.o.lease,
      status: () => nodeStatus(this.o.facts, this.bootTime),
      // Renewals run twice a second: the same failure is said once, not every time.
      log: (m) => {
        if (m !== lastError) this.log((lastError = m));
      },
    });
    await this.heartbeat.start();
    traceAgent?.('heartbeat started (lease renewed, status posted)');
    const enqueue = (p: Pod) => {
      tracePod?.(`${p.metadata.namespace}/${p.metadata.name}`, `event rv ${p.metadata.resourceVersion}`);
      this.queue.add(`${p.metadata.namespace}/${p.metadata.name}`);
    };
    this.informer.addHandlers({ onAdd: enqueue, onUpdate: enqueue, onDelete: enqueue });
    this.unsubscribe = this.o.engine.events.subscribe((ev) => {
      if (ev.Type !== 'container' || (ev.Action !== 'die' && ev.Action !== 'start')) return;
      const a = ev.Actor.Attributes;
      if (a[L.podUid]) this.queue.add(`${a[L.podNamespace]}/${a[L.podName]}`);
    });
    await this.localVolumes.start();
    traceAgent?.('local volumes started');
    await this.informer.start();
    traceAgent?.('pods listed');
    // Adopt or clean up: every pod with containers here gets a sync (orphans are torn down).
    for (const key of podUidsInEngine(this.o.engine).values()) this.queue.add(key);
    this.workers = this.queue.run((key) => this.reconcile(key), POD_WORKERS, (key, err) => this.log(`pod ${key}: ${messageOf(err)}`));
  }

  private async reconcile(key: string): Promise<void> {
    const pod = this.informer.get(key);
    // Containers of an older pod of the same name (deleted and made again), or of a pod gone from the API.
    for (const [uid, k] of podUidsInEngine(this.o.engine)) {
      if (k === key && uid !== pod?.metadata.uid) {
        await this.syncer.sync(key, undefined, uid);
        this.o.metrics?.forget(uid);
      }
    }
    if (!pod) return;
    const metrics = this.o.metrics;
    const uid = pod.metadata.uid!;
    if (metrics && !pod.metadata.deletionTimestamp) metrics.seen(uid);
    tracePod?.(key, 'sync start');
    await this.syncer.sync(key, pod);
    tracePod?.(key, 'sync end');
    if (metrics?.starting(uid) && this.allRunning(uid, pod.spec.containers.length)) metrics.running(uid);
  }

  /** Every container the pod spec lists runs (kubelet_pod_start_duration_seconds ends here). */
  private allRunning(uid: string, wanted: number): boolean {
    const running = new Set<string>();
    for (const c of this.o.engine.containers.all()) {
      const l = c.Config.Labels;
      if (l?.[L.podUid] === uid && l[L.role] !== 'sandbox' && c.State.Running) running.add(l[L.container]!);
    }
    return running.size >= wanted && wanted > 0;
  }

  /** The name is claimed already: startAgent does that first, before the engine or the Lease (node-identity.ts). */
  private async register(): Promise<void> {
    const body = nodeObject(this.o.facts);
    const meta = body.metadata as { annotations?: Record<string, string> };
    // Where this agent's local-path volumes live: the provisioner puts each new volume's directory there.
    meta.annotations = { ...meta.annotations, [NODE_LOCAL_PATH_DIR]: this.localVolumes.root };
    let node: KubeObject;
    try {
      node = await this.o.client.create<KubeObject>(nodesRef, body);
    } catch (err) {
      if (!(err instanceof TugError && (err.kind === 'already-exists' || err.kind === 'conflict'))) throw err;
      node = await this.o.client.patch<KubeObject>(nodesRef, this.o.facts.name, { metadata: body.metadata, spec: body.spec });
    }
    await ownNodePassword(this.o.client, node);
    traceAgent?.('node patched');
  }

  /** Stops syncing; pods keep running (as with a kubelet restart) and are adopted by the next start. */
  async stop(): Promise<void> {
    this.heartbeat?.stop();
    this.unsubscribe?.();
    this.informer.stop();
    this.queue.shutdown();
    await this.workers?.catch(() => undefined);
    traceAgent?.('stop: pod workers done');
    await this.localVolumes.stop();
    this.syncer.stopAll();
  }
}
