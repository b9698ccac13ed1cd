// Finding an HPA's target through the API's discovery documents and its
// scale subresource, as kube-controller-manager's RESTMapper and scale
// client do: scaleTargetRef (apiVersion, kind) -> resource, which must list a
// "<resource>/scale" subresource; errors carry Kubernetes' messages, which
// end up in the FailedGetScale condition. Discovery answers are kept 30 s, so
// a CustomResourceDefinition with a scale subresource is found soon after it
// is made.
import type { KubeClient, KubeObject } from '../../kube/client/kube-client.js';

const DISCOVERY_TTL_MS = 30_000;

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

export interface ScaleTarget {
  /** The path of the target's scale subresource. */
  scalePath: string;
  resource: string;
}

export type Requester = Pick<KubeClient, 'request'>;

export class ScaleTargets {
  private readonly discovery = new Map<string, { at: number; resources?: ApiResource[] }>();

  constructor(private readonly client: Requester) {}

  private async resources(group: string, version: string): Promise<ApiResource[] | undefined> {
    const key = `${group}/${version}`;
    const hit = this.discovery.get(key);
    if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS) return hit.resources;
    let resources: ApiResource[] | undefined;
    try {
      const doc = await this.client.request<{ resources?: ApiResource[] }>('GET', group ? `/apis/${group}/${version}` : `/api/${version}`);
      resources = doc.resources ?? [];
    } catch (err) {
      if ((err as { kind?: string }).kind !== 'not-found') throw err;
    }
    this.discovery.set(key, { at: Date.now(), resources });
    return resources;
  }

  async resolve(namespace: string, ref: { apiVersion?: string; kind?: string; name?: string }): Promise<ScaleTarget> {
    const apiVersion = ref.apiVersion ?? '';
    const parts = apiVersion.split('/');
    if (parts.length > 2) throw new Error(`unexpected GroupVersion string: ${apiVersion}`);
    const [group, version] = parts.length === 2 ? [parts[0]!, parts[1]!] : ['', parts[0]!];
    const resources = version ? await this.resources(group, version) : undefined;
    const r = resources?.find((x) => x.kind === ref.kind && !x.name.includes('/'));
    if (!r) throw new Error(`no matches for kind "${ref.kind}" in group "${group}"`);
    if (!resources!.some((x) => x.name === `${r.name}/scale`)) throw new Error(`could not find scale subresource for ${group}/${version}, Resource=${r.name} in discovery information`);
    const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
    const ns = r.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return { resource: r.name, scalePath: `${base}${ns}/${r.name}/${encodeURIComponent(ref.name ?? '')}/scale` };
  }

  get(t: ScaleTarget): Promise<KubeObject> {
    return this.client.request<KubeObject>('GET', t.scalePath);
  }

  /** Sets spec.replicas; without the resourceVersion, so a status write of the target in between is no conflict. */
  update(t: ScaleTarget, scale: KubeObject, replicas: number): Promise<KubeObject> {
    return this.client.request<KubeObject>('PUT', t.scalePath, { ...scale, metadata: { ...scale.metadata, resourceVersion: undefined }, spec: { ...scale.spec, replicas } });
  }
}
