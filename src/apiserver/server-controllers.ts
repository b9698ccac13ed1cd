// The controllers that run inside the API server process (garbage collector
// and namespace finalizer, ResourceQuota status, default ServiceAccounts,
// CertificateSigningRequest approver and signer, bootstrap token cleaner)
// wired as kube-controller-manager wires its own: one set of type monitors
// (list + watch of every resource) shared by all, each controller a work
// queue and an idempotent reconcile(key), all writing through the in-process
// client. Nothing here hooks the write path, so what another server on the
// same store writes, or what happened while this one was down, reaches them.
import type { ObjectStore } from './object-store.js';
import { LocalClient } from './local-client.js';
import { TypeMonitors } from './type-monitors.js';
import { GarbageCollector } from './garbage-collector.js';
import { ResourceQuotaController, type QuotaUsage } from './resource-quota-controller.js';
import { DefaultServiceAccounts } from './serviceaccount-controller.js';
import { CsrApprover } from './certificates/csr-approver.js';
import { CsrSigner, type CsrSignerOptions } from './certificates/csr-signer.js';
import { BootstrapTokenCleaner } from './certificates/bootstrap-token-cleaner.js';
import { NodePodGraph } from './node-pod-graph.js';

export interface ServerControllers {
  gc: GarbageCollector;
  /** The node authorizer's graph of which node's pods use what. */
  nodePods: NodePodGraph;
  stop(): void;
}

export async function startServerControllers(objects: ObjectStore, quotaUsage: QuotaUsage, signing?: CsrSignerOptions): Promise<ServerControllers> {
  const client = new LocalClient(objects, 'garbage-collector');
  const monitors = new TypeMonitors(objects.registry, client);
  const gc = new GarbageCollector(client, objects.registry, monitors, client.as('namespace-controller'));
  const quotas = new ResourceQuotaController(client.as('resourcequota-controller'), quotaUsage, monitors);
  const serviceAccounts = new DefaultServiceAccounts(client.as('serviceaccount-controller'), objects.registry, monitors);
  const log = (m: string) => process.stderr.write(`tug server: ${m}\n`);
  const approver = new CsrApprover(objects, monitors, log);
  const signer = signing ? new CsrSigner(objects, monitors, { log, ...signing }) : undefined;
  const tokenCleaner = new BootstrapTokenCleaner(objects, monitors, log);
  const nodePods = new NodePodGraph(client.as('node-authorizer'));
  const stop = () => {
    nodePods.stop();
    approver.stop();
    signer?.stop();
    tokenCleaner.stop();
    monitors.stop();
    gc.stop();
    quotas.stop();
    serviceAccounts.stop();
  };
  try {
    await Promise.all([monitors.start(), nodePods.start()]);
    gc.run();
    await quotas.start();
    await serviceAccounts.start();
    approver.start();
    signer?.start();
    tokenCleaner.start();
  } catch (err) {
    stop();
    throw err;
  }
  return { gc, nodePods, stop };
}
