// One informer per resource for every controller in the process (as
// client-go's SharedInformerFactory): the scheduler and the controllers all
// watch pods, and one watch stream beats five.
import { Informer, InformerView } from './informer.js';
import type { KubeObject, ListWatcher, ResourceRef } from './kube-client.js';

export const refs = {
  pods: { group: '', version: 'v1', resource: 'pods' },
  nodes: { group: '', version: 'v1', resource: 'nodes' },
  services: { group: '', version: 'v1', resource: 'services' },
  endpoints: { group: '', version: 'v1', resource: 'endpoints' },
  namespaces: { group: '', version: 'v1', resource: 'namespaces' },
  configmaps: { group: '', version: 'v1', resource: 'configmaps' },
  events: { group: '', version: 'v1', resource: 'events' },
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets' },
  replicationcontrollers: { group: '', version: 'v1', resource: 'replicationcontrollers' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
  jobs: { group: 'batch', version: 'v1', resource: 'jobs' },
  cronjobs: { group: 'batch', version: 'v1', resource: 'cronjobs' },
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' },
  poddisruptionbudgets: { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' },
} satisfies Record<string, ResourceRef>;

/** The same collection inside one namespace (for writes). */
export function inNs(ref: ResourceRef, namespace: string | undefined): ResourceRef {
  return { ...ref, namespace };
}

/** Every 30 s each handler sees every cached object again, so a missed event (or a time-based condition) still converges. */
const RESYNC_MS = 30_000;

export class SharedInformers {
  private readonly informers = new Map<string, Informer>();
  /** A parent's own informers do not resync: its views do. */
  private resyncs = true;

  /**
   * With a parent, every informer here is a view of the parent's (InformerView):
   * stopping these informers removes their handlers and leaves the parent's
   * watches and caches running for the next set of views.
   */
  constructor(
    readonly client: ListWatcher,
    private readonly parent?: SharedInformers,
  ) {}

  for<T extends KubeObject = KubeObject>(ref: ResourceRef): Informer<T> {
    const k = `${ref.group}/${ref.resource}`;
    let inf = this.informers.get(k);
    if (!inf) {
      // A parent only feeds its views, which resync themselves.
      inf = this.parent ? new InformerView(this.parent.for(ref), { resyncMs: RESYNC_MS }) : new Informer(this.client, ref, { resyncMs: this.resyncs ? RESYNC_MS : 0 });
      this.informers.set(k, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /** SharedInformers whose informers only feed views (see the constructor). */
  static parentOf(client: ListWatcher): SharedInformers {
    const p = new SharedInformers(client);
    p.resyncs = false;
    return p;
  }

  /** Starts every informer asked for so far; resolves when all have listed once. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }
}
