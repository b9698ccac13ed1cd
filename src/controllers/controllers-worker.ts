// The worker thread withControllers() starts: the scheduler and controllers,
// talking to the API server over HTTPS like any other client. Commands from the
// server thread: 'release' (a held scheduler starts binding), 'stop', and
// { type: 'metrics' } (answered with this thread's scheduler and work-queue series).
import { parentPort, workerData } from 'node:worker_threads';
import { messageOf } from '../errdefs.js';
import { startControllers, type WorkerCommand, type WorkerInput, type WorkerMessage } from './controller-manager.js';
import { workQueueRegistry } from '../kube/client/work-queue-metrics.js';
import { schedulerRegistry } from './scheduler/scheduler-metrics.js';
import type { MetricFamilies } from '../util/metrics-registry.js';

const port = parentPort!;
const input = workerData as WorkerInput;
const post = (m: WorkerMessage): void => port.postMessage(m);
try {
  const running = await startControllers(input.kubeconfig, { holdScheduler: input.holdScheduler, hpa: input.hpa, nodeMonitorGracePeriodMs: input.nodeMonitorGracePeriodMs, clusterNetwork: input.clusterNetwork });
  port.on('message', (cmd: WorkerCommand) => {
    if (typeof cmd === 'object' && cmd.type === 'metrics') {
      void Promise.all([workQueueRegistry.getMetricsAsJSON(), schedulerRegistry.getMetricsAsJSON()]).then(
        ([queues, scheduler]) => post({ type: 'metrics', id: cmd.id, families: [...queues, ...scheduler] as MetricFamilies }),
        (err: unknown) => post({ type: 'metrics', id: cmd.id, families: [], error: messageOf(err) }),
      );
      return;
    }
    if (cmd === 'release') running.scheduler.release();
    if (cmd === 'stop') {
      running.stop();
      // Informers and the client are closed; close the port so the thread can end.
      port.close();
    }
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'error', message: messageOf(err) });
}
