// Starts the scheduler and the controllers as API clients of a running
// control plane (as kube-scheduler and kube-controller-manager do), sharing
// one set of informers. `tug server` wraps its ClusterServer with
// withControllers() (which runs them in a worker thread, see controllers-worker.ts)
// so closing the server stops them too. With several servers each part runs
// only while its server holds the part's Lease (controllers-worker.ts).
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { messageOf } from '../errdefs.js';
import type { MetricFamilies, MetricsSource } from '../util/metrics-registry.js';
import { parse as parseYaml } from 'yaml';
import { KubeClient } from '../kube/client/kube-client.js';
import { SharedInformers } from '../kube/client/shared-informers.js';
import type { LeaderElectionTimings } from '../kube/client/leader-election.js';
import { Scheduler } from './scheduler/scheduler.js';
import { ReplicaSetController, replicationControllerKind } from './replicaset-controller.js';
import { DeploymentController } from './deployment-controller.js';
import { EndpointsController } from './endpoints-controller.js';
import { RootCaPublisher } from './root-ca-controller.js';
import { JobController } from './job-controller.js';
import { CronJobController } from './cronjob-controller.js';
import { TtlAfterFinishedController } from './ttl-after-finished-controller.js';
import { StatefulSetController } from './statefulset-controller.js';
import { DaemonSetController } from './daemonset-controller.js';
import { PersistentVolumeController } from './volume/pv-controller.js';
import { LocalPathProvisioner } from './volume/local-path-provisioner.js';
import { HorizontalPodAutoscalerController, type HpaControllerOptions } from './hpa/hpa-controller.js';
import { NodeLifecycleController } from './node-lifecycle-controller.js';
import { PodGarbageCollector } from './pod-gc-controller.js';
import { DisruptionController } from './disruption-controller.js';
import { NodeIpamController, DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE, type ClusterNetwork } from './node-ipam-controller.js';

export interface RunningControllers {
  scheduler: Scheduler;
  stop(): void;
}

async function caOf(kubeconfig: string): Promise<string> {
  const cfg = parseYaml(await readFile(kubeconfig, 'utf8')) as any;
  const data = cfg?.clusters?.[0]?.cluster?.['certificate-authority-data'];
  if (data) return Buffer.from(data, 'base64').toString();
  const file = cfg?.clusters?.[0]?.cluster?.['certificate-authority'];
  return file ? readFile(file, 'utf8') : '';
}

export interface ControllerOptions {
  /**
   * Hold the scheduler (pods queue, none is bound) until release: kube-scheduler's
   * scheduler_perf measures scheduling this way, with the pods created first.
   */
  holdScheduler?: boolean;
  /** The HorizontalPodAutoscaler controller's sync period and downscale stabilization. */
  hpa?: HpaControllerOptions;
  /** How long a node may go without a heartbeat before it is unreachable (default: node-lifecycle-controller.ts). */
  nodeMonitorGracePeriodMs?: number;
  /** The pod network the node IPAM controller hands ranges from (default 10.42.0.0/16, /24 per node, vxlan). */
  clusterNetwork?: ClusterNetwork;
}

/** Connections the scheduler's client keeps for requests (binds, status updates, Events). */
const SCHEDULER_REQUEST_SOCKETS = 64;

/**
 * The scheduler on its own client and informers: what holds the kube-scheduler Lease.
 * With `warm`, its informers are views of those (InformerView): stopping it keeps their
 * caches for the next term. Its client, closed on stop, is its own either way.
 */
export async function startScheduling(kubeconfig: string, opts: { holdScheduler?: boolean; warm?: SharedInformers } = {}): Promise<RunningControllers> {
  // Binds are the scheduler's throughput: more of them in flight than the default 16
  // (still bounded, so its fire-and-forget status updates cannot open a connection each).
  const client = new KubeClient({ ...(await KubeClient.readKubeconfig(kubeconfig)), maxRequestSockets: SCHEDULER_REQUEST_SOCKETS });
  const informers = new SharedInformers(client, opts.warm);
  const scheduler = new Scheduler(informers, client);
  if (opts.holdScheduler) scheduler.hold();
  const stop = (): void => {
    scheduler.stop();
    informers.stop();
    // Destroys the sockets too: a request still in flight is cut off, not finished by an ex-leader.
    client.close();
  };
  await startInformersOrStop(informers, stop);
  scheduler.start();
  return { scheduler, stop };
}

/** Starts the informers; if their first lists fail, stops what was made so far (client sockets included) and rethrows. */
async function startInformersOrStop(informers: SharedInformers, stop: () => void): Promise<void> {
  try {
    await informers.start();
  } catch (err) {
    stop();
    throw err;
  }
}

/** The controllers on their own client and informers (views of `warm`'s, if given): what holds the kube-controller-manager Lease. */
export async function startControllerLoops(kubeconfig: string, opts: ControllerOptions & { warm?: SharedInformers } = {}): Promise<{ stop(): void }> {
  const client = await KubeClient.fromKubeconfig(kubeconfig);
  const informers = new SharedInformers(client, opts.warm);
  const controllers: Array<{ run(): void; stop(): void }> = [new ReplicaSetController(informers, client), new ReplicaSetController(informers, client, replicationControllerKind), new DeploymentController(informers, client), new EndpointsController(informers, client), new RootCaPublisher(informers, client, await caOf(kubeconfig))];
  controllers.push(new StatefulSetController(informers, client), new DaemonSetController(informers, client));
  controllers.push(new JobController(informers, client), new CronJobController(informers, client), new TtlAfterFinishedController(informers, client));
  controllers.push(new PersistentVolumeController(informers, client), new LocalPathProvisioner(informers, client));
  controllers.push(new HorizontalPodAutoscalerController(informers, client, opts.hpa));
  controllers.push(new NodeLifecycleController(informers, client, { gracePeriodMs: opts.nodeMonitorGracePeriodMs }), new PodGarbageCollector(informers, client), new DisruptionController(informers, client));
  controllers.push(new NodeIpamController(informers, client, opts.clusterNetwork ?? { clusterCidr: DEFAULT_CLUSTER_CIDR, nodeCidrMaskSize: DEFAULT_NODE_CIDR_MASK_SIZE, backend: 'vxlan' }));
  const stop = (): void => {
    for (const c of controllers) c.stop();
    informers.stop();
    client.close();
  };
  await startInformersOrStop(informers, stop);
  for (const c of controllers) c.run();
  return { stop };
}

/** Scheduler and controllers together, without leader election (one server, or --leader-elect=false). */
export async function startControllers(kubeconfig: string, opts: ControllerOptions = {}): Promise<RunningControllers> {
  const scheduling = await startScheduling(kubeconfig, opts);
  try {
    const loops = await startControllerLoops(kubeconfig, opts);
    return {
      scheduler: scheduling.scheduler,
      stop() {
        scheduling.stop();
        loops.stop();
      },
    };
  } catch (err) {
    scheduling.stop();
    throw err;
  }
}

/** What withControllers() needs of a server (a ClusterServer is one): its admin kubeconfig, and close(). */
export interface ControlPlane {
  kubeconfig: string;
  close(): Promise<void>;
  /** Where the scheduler's and controllers' Prometheus series go (the API server's /metrics), when the server has one. */
  addMetricsSource?(source: MetricsSource): void;
}

export interface WithControllersOptions {
  /** Hold the scheduler until the process receives this signal (see ControllerOptions). */
  holdSchedulerUntil?: NodeJS.Signals;
  hpa?: HpaControllerOptions;
  nodeMonitorGracePeriodMs?: number;
  clusterNetwork?: ClusterNetwork;
  /** Leader election for the scheduler and the controllers (absent: they run here unconditionally). */
  leaderElection?: LeaderElectionConfig;
}

/** --leader-elect and its durations; identity names this server in the Leases. */
export interface LeaderElectionConfig extends Partial<LeaderElectionTimings> {
  identity?: string;
}

/**
 * The same server, whose close() first stops the scheduler and controllers.
 * They run in a worker thread: they are API clients over HTTPS anyway (as
 * kube-scheduler and kube-controller-manager are separate processes), and on
 * their own thread their informers, filtering and scoring and the client side
 * of every bind no longer take turns with the API server's event loop.
 */
export async function withControllers<S extends ControlPlane>(server: S, opts: WithControllersOptions = {}): Promise<S> {
  const signal = opts.holdSchedulerUntil;
  let worker: Worker;
  try {
    worker = new Worker(new URL('./controllers-worker.js', import.meta.url), {
      workerData: { kubeconfig: server.kubeconfig, holdScheduler: Boolean(signal), hpa: opts.hpa, nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs, clusterNetwork: opts.clusterNetwork, leaderElection: opts.leaderElection } satisfies WorkerInput,
      ...workerFlags(process.execArgv),
    });
  } catch (err) {
    await server.close();
    throw err;
  }
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: WorkerMessage) => (m.type === 'ready' ? resolve() : reject(new Error(m.type === 'error' ? m.message : 'unexpected message while starting'))));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`controllers exited with code ${code} while starting`)));
    });
  } catch (err) {
    await worker.terminate();
    await server.close();
    throw err;
  }
  worker.on('error', (err) => process.stderr.write(`tug server: scheduler/controllers: ${messageOf(err)}\n`));
  // The worker's series join the API server's /metrics (one scrape target, as
  // Prometheus sees kube-apiserver; kube-controller-manager would be a second
  // one on :10257): each scrape asks the worker for its registries' JSON.
  server.addMetricsSource?.(workerMetrics(worker));
  const release = (): void => worker.postMessage('release' satisfies WorkerCommand);
  if (signal) process.on(signal, release);
  const close = server.close.bind(server);
  server.close = async () => {
    if (signal) process.off(signal, release);
    worker.postMessage('stop' satisfies WorkerCommand);
    // A controller that left a handle open must not hang shutdown.
    const force = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(force);
    await close();
  };
  return server;
}

/** What withControllers() hands its worker. */
export interface WorkerInput {
  kubeconfig: string;
  holdScheduler: boolean;
  hpa?: HpaControllerOptions;
  nodeMonitorGracePeriodMs?: number;
  clusterNetwork?: ClusterNetwork;
  leaderElection?: LeaderElectionConfig;
}
export type WorkerCommand = 'release' | 'stop' | { type: 'metrics'; id: number };
export type WorkerMessage = { type: 'ready' } | { type: 'error'; message: string } | { type: 'metrics'; id: number; families: MetricFamilies; error?: string };

/** A metrics source that asks the worker for its families; a worker that does not answer in 5 s fails the scrape. */
function workerMetrics(worker: Worker): () => Promise<MetricFamilies> {
  let next = 0;
  const pending = new Map<number, { resolve: (f: MetricFamilies) => void; reject: (e: Error) => void }>();
  worker.on('message', (m: WorkerMessage) => {
    if (m.type !== 'metrics') return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(`scheduler/controllers: ${m.error}`));
    else p?.resolve(m.families);
  });
  let exited = false;
  worker.once('exit', () => {
    exited = true;
    for (const p of pending.values()) p.resolve([]);
    pending.clear();
  });
  return () =>
    new Promise<MetricFamilies>((resolve, reject) => {
      if (exited) return resolve([]);
      const id = ++next;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('scheduler/controllers did not answer within 5 s'));
      }, 5000);
      timer.unref();
      const done = <T>(f: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        f(v);
      };
      pending.set(id, { resolve: done(resolve), reject: done(reject) });
      worker.postMessage({ type: 'metrics', id } satisfies WorkerCommand);
    });
}

/**
 * What of the server's node flags a worker can take: profiling flags as they
 * are (so --cpu-prof profiles the controllers too), --max-old-space-size as a
 * resource limit. A worker refuses per-process flags such as --input-type.
 */
export function workerFlags(argv: string[]): { execArgv: string[]; resourceLimits?: { maxOldGenerationSizeMb: number } } {
  const execArgv = argv.filter((a) => a.startsWith('--cpu-prof') || a.startsWith('--heap-prof'));
  const heap = argv.map((a) => /^--max-old-space-size=(\d+)$/.exec(a)).find((m) => m);
  return heap ? { execArgv, resourceLimits: { maxOldGenerationSizeMb: Number(heap[1]) } } : { execArgv };
}
