// Starts the scheduler and the controllers as API clients of a running
// control plane (as kube-scheduler and kube-controller-manager do), sharing
// one set of informers. `tug server` wraps its ClusterServer with
// withControllers() so closing the server stops them too.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { KubeClient } from '../client/kube-client.js';
import type { ClusterServer } from '../apiserver/cluster-server.js';
import { SharedInformers } from './shared-informers.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { ReplicaSetController } from './replicaset-controller.js';
import { DeploymentController } from './deployment-controller.js';
import { EndpointsController } from './endpoints-controller.js';
import { RootCaPublisher } from './root-ca-controller.js';

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
   * Hold the scheduler (pods queue, none is bound) until the process receives
   * this signal: kube-scheduler's scheduler_perf measures scheduling this way,
   * with the pods created first.
   */
  holdSchedulerUntil?: NodeJS.Signals;
}

export async function startControllers(kubeconfig: string, opts: ControllerOptions = {}): Promise<RunningControllers> {
  const client = await KubeClient.fromKubeconfig(kubeconfig);
  const informers = new SharedInformers(client);
  const scheduler = new Scheduler(informers, client);
  const signal = opts.holdSchedulerUntil;
  const release = (): void => scheduler.release();
  if (signal) {
    scheduler.hold();
    process.on(signal, release);
  }
  const controllers = [new ReplicaSetController(informers, client), new DeploymentController(informers, client), new EndpointsController(informers, client), new RootCaPublisher(informers, client, await caOf(kubeconfig))];
  await informers.start();
  scheduler.start();
  for (const c of controllers) c.run();
  return {
    scheduler,
    stop() {
      if (signal) process.off(signal, release);
      scheduler.stop();
      for (const c of controllers) c.stop();
      informers.stop();
      client.close();
    },
  };
}

/** The same server, whose close() first stops the scheduler and controllers. */
export async function withControllers<S extends Pick<ClusterServer, 'kubeconfig' | 'close'>>(server: S, opts: ControllerOptions = {}): Promise<S> {
  let running: RunningControllers;
  try {
    running = await startControllers(server.kubeconfig, opts);
  } catch (err) {
    await server.close();
    throw err;
  }
  const close = server.close.bind(server);
  server.close = async () => {
    running.stop();
    await close();
  };
  return server;
}
