// The worker thread withControllers() starts: the scheduler and controllers,
// talking to the API server over HTTPS like any other client. With leader
// election each of the two runs only while this server holds its Lease
// (kube-system/kube-scheduler, kube-system/kube-controller-manager), so with
// several servers on one store exactly one of each acts; their informers are
// views of one set of watches that outlives the terms. Commands from the
// server thread: 'release' (a held scheduler starts binding), 'stop', and
// { type: 'metrics' } (answered with this thread's scheduler and work-queue series).
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { messageOf } from '../errdefs.js';
import { KubeClient } from '../kube/client/kube-client.js';
import { SharedInformers } from '../kube/client/shared-informers.js';
import { defaultIdentity } from '../kube/client/leader-election.js';
import { LeaderElected } from './leader-elected.js';
import { startControllerLoops, startControllers, startScheduling, type WorkerCommand, type WorkerInput, type WorkerMessage } from './controller-manager.js';
import { workQueueRegistry } from '../kube/client/work-queue-metrics.js';
import { schedulerRegistry } from './scheduler/scheduler-metrics.js';
import type { MetricFamilies } from '../util/metrics-registry.js';

// This thread's name in /proc (top -H, ps -L, benchmarks' per-thread CPU), which otherwise is "node" like every other.
try {
  writeFileSync('/proc/thread-self/comm', 'tug-controllers');
} catch {
  // Not Linux, or /proc not mounted: the name is only for looking at.
}

const port = parentPort!;
const input = workerData as WorkerInput;
const post = (m: WorkerMessage): void => port.postMessage(m);
const log = (m: string): void => void process.stderr.write(`tug server: ${m}\n`);
const opts = { hpa: input.hpa, nodeMonitorGracePeriodMs: input.nodeMonitorGracePeriodMs, clusterNetwork: input.clusterNetwork };

/** Answers a { type: 'metrics' } command with this thread's series; false for any other command. */
function answeredMetrics(cmd: WorkerCommand): boolean {
  if (typeof cmd !== 'object' || cmd.type !== 'metrics') return false;
  void Promise.all([workQueueRegistry.getMetricsAsJSON(), schedulerRegistry.getMetricsAsJSON()]).then(
    ([queues, scheduler]) => post({ type: 'metrics', id: cmd.id, families: [...queues, ...scheduler] as MetricFamilies }),
    (err: unknown) => post({ type: 'metrics', id: cmd.id, families: [], error: messageOf(err) }),
  );
  return true;
}

async function unconditional(): Promise<void> {
  const running = await startControllers(input.kubeconfig, { ...opts, holdScheduler: input.holdScheduler });
  port.on('message', (cmd: WorkerCommand) => {
    if (answeredMetrics(cmd)) return;
    if (cmd === 'release') running.scheduler.release();
    if (cmd === 'stop') {
      running.stop();
      // Informers and the client are closed; close the port so the thread can end.
      port.close();
    }
  });
}

async function elected(le: NonNullable<WorkerInput['leaderElection']>): Promise<void> {
  const client = await KubeClient.fromKubeconfig(input.kubeconfig);
  // Watches and caches outlive a term: a leader that loses its Lease (a busy
  // API server can delay a renewal past the deadline) and wins it back starts
  // again from warm caches, with no relist of every pod. Made on the first win.
  // They have their own client, so Lease renewals never queue behind them.
  let warm: Promise<{ informers: SharedInformers; client: KubeClient }> | undefined;
  const warmInformers = async (): Promise<SharedInformers> => {
    warm ??= KubeClient.fromKubeconfig(input.kubeconfig).then((c) => ({ informers: SharedInformers.parentOf(c), client: c }));
    return (await warm).informers;
  };
  const identity = le.identity ?? defaultIdentity();
  let held = input.holdScheduler;
  const timings = { leaseDurationMs: le.leaseDurationMs, renewDeadlineMs: le.renewDeadlineMs, retryPeriodMs: le.retryPeriodMs };
  const scheduling = new LeaderElected({ ...timings, client, identity, lease: 'kube-scheduler', log, start: async () => startScheduling(input.kubeconfig, { holdScheduler: held, warm: await warmInformers() }) });
  const controllers = new LeaderElected({ ...timings, client, identity, lease: 'kube-controller-manager', log, start: async () => startControllerLoops(input.kubeconfig, { ...opts, warm: await warmInformers() }) });
  log(`leader election identity ${identity}`);
  scheduling.run();
  controllers.run();
  port.on('message', (cmd: WorkerCommand) => {
    if (answeredMetrics(cmd)) return;
    if (cmd === 'release') {
      held = false;
      scheduling.current?.scheduler.release();
    }
    if (cmd === 'stop') {
      // Stop work and release both Leases, so another server takes over at once.
      void Promise.all([scheduling.stop(), controllers.stop()]).finally(() => {
        client.close();
        void warm?.then((w) => {
          w.informers.stop();
          w.client.close();
        });
        port.close();
      });
    }
  });
}

try {
  await (input.leaderElection ? elected(input.leaderElection) : unconditional());
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'error', message: messageOf(err) });
}
