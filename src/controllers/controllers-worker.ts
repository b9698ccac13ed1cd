// The worker thread withControllers() starts: the scheduler and controllers,
// talking to the API server over HTTPS like any other client. Commands from the
// server thread: 'release' (a held scheduler starts binding), 'stop'.
import { parentPort, workerData } from 'node:worker_threads';
import { messageOf } from '../errdefs.js';
import { startControllers, type WorkerCommand, type WorkerInput, type WorkerMessage } from './controller-manager.js';

const port = parentPort!;
const input = workerData as WorkerInput;
const post = (m: WorkerMessage): void => port.postMessage(m);
try {
  const running = await startControllers(input.kubeconfig, { holdScheduler: input.holdScheduler, hpa: input.hpa, nodeMonitorGracePeriodMs: input.nodeMonitorGracePeriodMs, clusterNetwork: input.clusterNetwork });
  port.on('message', (cmd: WorkerCommand) => {
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
