// Service environment variables, as the kubelet gives every container
// (getServiceEnvVarMap + envvars.FromServices): KUBERNETES_SERVICE_HOST/PORT
// and the docker-link style KUBERNETES_PORT_443_TCP... for the master Service
// always, and the same for every Service of the pod's namespace unless
// spec.enableServiceLinks is false. The container's own env and envFrom win.
// Services come from the node services' informer cache, which they hand to
// the agent's ServiceEnv (one per agent), so a pod start costs no API request.
import type { KubeObject } from '../../kube/client/kube-client.js';

export interface ServiceLister {
  list(): KubeObject[];
}

/** How long a container start waits for the node's Service cache (node services start right after the agent). */
const LISTER_WAIT_MS = 10_000;

/** The service variables of one node agent's pods, from its node services' Service cache. */
export class ServiceEnv {
  private lister: ServiceLister | undefined;
  private readonly waiters: Array<() => void> = [];
  private gaveUp = false;

  /** The node's Service cache (all namespaces), synced once; set by the node services. */
  setLister(l: ServiceLister | undefined): void {
    this.lister = l;
    if (l) for (const w of this.waiters.splice(0)) w();
  }

  /**
   * The service variables for a container about to start. Like the kubelet,
   * which refuses to build them before its Service informer has synced, this
   * waits for the cache (a container restarted in the moment between the agent's
   * and the node services' start); bounded, and only once per agent if the
   * node services never come (then pods get no service variables, as with cluster DNS).
   */
  async forPod(namespace: string, enableServiceLinks: boolean | undefined): Promise<Map<string, string>> {
    if (!this.lister && !this.gaveUp) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.gaveUp = true;
          resolve();
        }, LISTER_WAIT_MS);
        timer.unref();
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return serviceEnv(namespace, enableServiceLinks, this.lister?.list() ?? []);
  }
}

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}

interface ServiceShape extends KubeObject {
  spec?: { clusterIP?: string; ports?: ServicePort[] };
}

/** Kubernetes' master services: the "kubernetes" Service of the default namespace. */
const MASTER_SERVICES = new Set(['kubernetes']);

const envName = (s: string): string => s.replace(/-/g, '_').toUpperCase();

/** The variables of one Service (none for headless or ExternalName ones, which have no cluster IP, or one without ports). */
export function serviceVars(svc: ServiceShape): Array<[string, string]> {
  const ip = svc.spec?.clusterIP;
  const ports = svc.spec?.ports ?? [];
  const name = svc.metadata.name;
  if (!name || !ip || ip === 'None' || !ports.length) return [];
  const prefix = envName(name);
  const hostPort = (p: number) => (ip.includes(':') ? `[${ip}]:${p}` : `${ip}:${p}`);
  const out: Array<[string, string]> = [
    [`${prefix}_SERVICE_HOST`, ip],
    [`${prefix}_SERVICE_PORT`, String(ports[0].port)],
  ];
  for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
  ports.forEach((p, i) => {
    const proto = (p.protocol || 'TCP').toUpperCase();
    const url = `${proto.toLowerCase()}://${hostPort(p.port)}`;
    // Docker special-cases the first port.
    if (i === 0) out.push([`${prefix}_PORT`, url]);
    const pp = `${prefix}_PORT_${p.port}_${proto}`;
    out.push([pp, url], [`${pp}_PROTO`, proto.toLowerCase()], [`${pp}_PORT`, String(p.port)], [`${pp}_ADDR`, ip]);
  });
  return out;
}

/** The service variables for a pod in `namespace`, from the given Services. */
export function serviceEnv(namespace: string, enableServiceLinks: boolean | undefined, services: KubeObject[]): Map<string, string> {
  const chosen = new Map<string, ServiceShape>();
  for (const svc of services as ServiceShape[]) {
    const name = svc.metadata.name;
    if (!name) continue;
    const ns = svc.metadata.namespace ?? 'default';
    if (ns === 'default' && MASTER_SERVICES.has(name)) {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (ns === namespace && enableServiceLinks !== false) chosen.set(name, svc);
  }
  const env = new Map<string, string>();
  for (const svc of chosen.values()) for (const [k, v] of serviceVars(svc)) env.set(k, v);
  return env;
}
