// Endpoints and EndpointSlice controller: for every Service with a selector,
// the pods it selects that have an IP become addresses (ready ones) or
// notReadyAddresses, with the Service's ports resolved against each pod
// (targetPort by number or by container port name). One EndpointSlice per
// Service carries the same endpoints with ready/serving/terminating conditions.
import { runReconcileLoop } from '../kube/client/reconcile-loop.js';
import type { KubeClient, KubeObject } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { isKind } from '../errdefs.js';
import { labelSelectorMatches } from '../kube/api/selectors.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { isPodReady, ownerRefs } from './pod-state.js';
import { canonicalJson } from './template-hash.js';

const sliceManager = 'endpointslice-controller.k8s.io';

interface Port {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** The Service's ports as this pod serves them (a named targetPort the pod lacks drops that port). */
function portsFor(svc: KubeObject, pod: KubeObject): Port[] {
  const out: Port[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const target = sp.targetPort ?? sp.port;
    let port: number | undefined;
    if (typeof target === 'number' || /^\d+$/.test(String(target))) port = Number(target);
    else {
      for (const c of pod.spec?.containers ?? []) for (const cp of c.ports ?? []) if (cp.name === target && (cp.protocol ?? 'TCP') === (sp.protocol ?? 'TCP')) port = cp.containerPort;
    }
    if (port === undefined) continue;
    const p: Port = { port, protocol: sp.protocol ?? 'TCP' };
    if (sp.name) p.name = sp.name;
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

export class EndpointsController {
  readonly queue = new WorkQueue({ name: 'endpoint', baseDelayMs: 200, maxDelayMs: 30_000 });

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeClient,
  ) {
    const svcEvent = (s: KubeObject) => this.queue.add(keyOf(s));
    informers.for(refs.services).addHandlers({ onAdd: svcEvent, onUpdate: svcEvent, onDelete: svcEvent });
    const podEvent = (p: KubeObject, old?: KubeObject) => {
      for (const s of informers.for(refs.services).list()) {
        if (s.metadata.namespace !== p.metadata.namespace || !s.spec?.selector) continue;
        const sel = { matchLabels: s.spec.selector };
        if (labelSelectorMatches(sel, p.metadata.labels) || (old && labelSelectorMatches(sel, old.metadata.labels))) this.queue.add(keyOf(s));
      }
    };
    informers.for(refs.pods).addHandlers({ onAdd: (p) => podEvent(p), onUpdate: podEvent, onDelete: (p) => podEvent(p) });
    informers.for(refs.endpoints);
    informers.for(refs.endpointslices);
  }

  run(workers = 2): void {
    runReconcileLoop(this.queue, 'endpoints-controller', (k) => this.reconcile(k), workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    const svc = this.informers.for(refs.services).get(key);
    // A deleted Service's Endpoints go with it (same name); its slice goes through the GC (ownerReference).
    if (!svc) {
      const ep = this.informers.for(refs.endpoints).get(key);
      if (ep?.metadata.labels?.['endpoints.kubernetes.io/managed-by'] === 'endpoint-controller') {
        await this.client.delete(inNs(refs.endpoints, ep.metadata.namespace), ep.metadata.name!, { uid: ep.metadata.uid }).catch((err) => {
          if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
        });
      }
      return;
    }
    if (!svc.spec?.selector || svc.metadata.deletionTimestamp) return;
    const ns = svc.metadata.namespace!;
    const sel = { matchLabels: svc.spec.selector };
    const publishNotReady = Boolean(svc.spec.publishNotReadyAddresses);
    const pods = this.informers
      .for(refs.pods)
      .list()
      .filter((p) => p.metadata.namespace === ns && labelSelectorMatches(sel, p.metadata.labels) && p.status?.podIP && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
      .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));

    // Endpoints: pods grouped by their resolved port set, as the endpoints controller's subsets.
    const subsets = new Map<string, { addresses: any[]; notReadyAddresses: any[]; ports: Port[] }>();
    const sliceEndpoints: any[] = [];
    let slicePorts: Port[] | undefined;
    for (const p of pods) {
      const ports = portsFor(svc, p);
      const terminating = Boolean(p.metadata.deletionTimestamp);
      const ready = isPodReady(p);
      const addr: Record<string, unknown> = { ip: p.status.podIP, targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid } };
      // A pod with hostname and subdomain = this Service gets a DNS name <hostname>.<svc>.<ns>.svc (StatefulSet pods).
      const hostname = p.spec?.hostname && p.spec?.subdomain === svc.metadata.name ? String(p.spec.hostname) : undefined;
      if (hostname) addr.hostname = hostname;
      if (p.spec?.nodeName) addr.nodeName = p.spec.nodeName;
      if (!terminating || publishNotReady) {
        const sk = canonicalJson(ports);
        let s = subsets.get(sk);
        if (!s) subsets.set(sk, (s = { addresses: [], notReadyAddresses: [], ports }));
        if (ready || publishNotReady) s.addresses.push(addr);
        else s.notReadyAddresses.push(addr);
      }
      slicePorts ??= ports;
      const ep: Record<string, unknown> = {
        addresses: [p.status.podIP],
        conditions: { ready: (ready && !terminating) || publishNotReady, serving: ready, terminating },
        targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid },
      };
      if (hostname) ep.hostname = hostname;
      if (p.spec?.nodeName) ep.nodeName = p.spec.nodeName;
      sliceEndpoints.push(ep);
    }
    const epSubsets = [...subsets.values()].filter((s) => s.ports.length).map((s) => {
      const o: Record<string, unknown> = { ports: s.ports };
      if (s.addresses.length) o.addresses = s.addresses;
      if (s.notReadyAddresses.length) o.notReadyAddresses = s.notReadyAddresses;
      return o;
    });
    await this.writeEndpoints(svc, epSubsets);
    await this.writeSlice(svc, sliceEndpoints, slicePorts ?? (svc.spec?.ports ?? []).filter((sp: any) => typeof sp.targetPort === 'number' || sp.targetPort === undefined).map((sp: any) => ({ name: sp.name, port: sp.targetPort ?? sp.port, protocol: sp.protocol ?? 'TCP' })));
  }

  private async writeEndpoints(svc: KubeObject, subsets: unknown[]): Promise<void> {
    const ns = svc.metadata.namespace!;
    const ref = inNs(refs.endpoints, ns);
    const cur = this.informers.for(refs.endpoints).get(keyOf(svc));
    const labels = { ...(svc.metadata.labels ?? {}), 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' };
    if (cur && canonicalJson(cur.subsets ?? []) === canonicalJson(subsets) && canonicalJson(cur.metadata.labels ?? {}) === canonicalJson(labels)) return;
    const body = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name, namespace: ns, labels, ...(cur ? { resourceVersion: cur.metadata.resourceVersion } : {}) }, subsets };
    if (cur) await this.client.update(ref, body as KubeObject);
    else {
      await this.client.create(ref, body).catch(async (err) => {
        if (!isKind(err, 'already-exists')) throw err;
        const live = await this.client.get<KubeObject>(ref, svc.metadata.name!);
        await this.client.update(ref, { ...body, metadata: { ...body.metadata, resourceVersion: live.metadata.resourceVersion } } as KubeObject);
      });
    }
  }

  private async writeSlice(svc: KubeObject, endpoints: unknown[], ports: Port[]): Promise<void> {
    const ns = svc.metadata.namespace!;
    const ref = inNs(refs.endpointslices, ns);
    const mine = this.informers
      .for(refs.endpointslices)
      .list()
      .filter((s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name && s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === sliceManager);
    const cur = mine[0];
    // Extra slices (from an earlier run) go away; one slice holds all our endpoints.
    for (const extra of mine.slice(1)) await this.client.delete(ref, extra.metadata.name!).catch(() => undefined);
    const labels = { ...(svc.metadata.labels ?? {}), 'kubernetes.io/service-name': svc.metadata.name!, 'endpointslice.kubernetes.io/managed-by': sliceManager };
    const body: Record<string, any> = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { labels, ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }] },
      addressType: 'IPv4',
      endpoints,
      ports,
    };
    if (cur) {
      if (canonicalJson(cur.endpoints ?? []) === canonicalJson(endpoints) && canonicalJson(cur.ports ?? []) === canonicalJson(ports) && ownerRefs(cur).some((r) => r.uid === svc.metadata.uid)) return;
      body.metadata = { ...body.metadata, name: cur.metadata.name, namespace: ns, resourceVersion: cur.metadata.resourceVersion };
      await this.client.update(ref, body as KubeObject);
    } else {
      body.metadata = { ...body.metadata, generateName: `${svc.metadata.name}-`, namespace: ns };
      await this.client.create(ref, body);
    }
  }
}
