// Publishes the cluster CA as the kube-root-ca.crt ConfigMap in every
// namespace (as kube-controller-manager's root-ca-cert-publisher), so pods can
// verify the API server; restores it if edited or deleted.
import type { KubeClient, KubeObject } from '../kube/client/kube-client.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { isKind, messageOf } from '../errdefs.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';

export const rootCaName = 'kube-root-ca.crt';

export class RootCaPublisher {
  readonly queue = new WorkQueue({ name: 'root_ca_cert_publisher', baseDelayMs: 500, maxDelayMs: 30_000 });

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeClient,
    private readonly caPem: string,
  ) {
    const nsEvent = (n: KubeObject) => this.queue.add(n.metadata.name!);
    informers.for(refs.namespaces).addHandlers({ onAdd: nsEvent, onUpdate: nsEvent });
    const cmEvent = (c: KubeObject) => c.metadata.name === rootCaName && this.queue.add(c.metadata.namespace!);
    informers.for(refs.configmaps).addHandlers({ onUpdate: cmEvent, onDelete: cmEvent });
  }

  run(): void {
    void this.queue.run((k) => this.reconcile(k), 1, (k, err) => {
      if (!isKind(err, 'conflict') && !isKind(err, 'forbidden')) process.stderr.write(`root-ca-publisher: ${k}: ${messageOf(err)}\n`);
    });
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(ns: string): Promise<void> {
    const n = this.informers.for(refs.namespaces).get(ns);
    if (!n || n.metadata.deletionTimestamp || n.status?.phase === 'Terminating') return;
    const cur = this.informers.for(refs.configmaps).get(`${ns}/${rootCaName}`);
    const data = { 'ca.crt': this.caPem };
    const annotations = { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' };
    const ref = inNs(refs.configmaps, ns);
    if (!cur) {
      await this.client.create(ref, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: rootCaName, namespace: ns, annotations }, data }).catch((err) => {
        if (!isKind(err, 'already-exists')) throw err;
      });
    } else if ((cur.data as Record<string, string> | undefined)?.['ca.crt'] !== this.caPem) {
      await this.client.patch(ref, rootCaName, { data });
    }
  }
}
