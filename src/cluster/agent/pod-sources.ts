// ConfigMaps and Secrets a pod reads (env, envFrom, volumes), fetched from the
// API server once per sync so every container of one sync sees one version.
import type { KubeClient } from '../client/kube-client.js';
import { invalid } from '../../errdefs.js';

export type KeyData = Record<string, Buffer>;

export class PodSources {
  private readonly cache = new Map<string, Promise<KeyData | null>>();

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
  ) {}

  configMap(name: string, optional = false): Promise<KeyData | null> {
    return this.fetch('configmaps', name, optional);
  }

  secret(name: string, optional = false): Promise<KeyData | null> {
    return this.fetch('secrets', name, optional);
  }

  /** One key; missing (and not optional) is the CreateContainerConfigError a kubelet reports. */
  async key(kind: 'configmaps' | 'secrets', name: string, key: string, optional = false): Promise<string | undefined> {
    const data = await this.fetch(kind, name, optional);
    const v = data?.[key];
    if (v === undefined && !optional) throw invalid(`couldn't find key ${key} in ${kind === 'secrets' ? 'Secret' : 'ConfigMap'} ${this.namespace}/${name}`);
    return v?.toString();
  }

  private fetch(kind: 'configmaps' | 'secrets', name: string, optional: boolean): Promise<KeyData | null> {
    const k = `${kind}/${name}`;
    let p = this.cache.get(k);
    if (!p) {
      p = this.client.getOrNull<{ data?: Record<string, string>; binaryData?: Record<string, string> }>({ group: '', version: 'v1', resource: kind, namespace: this.namespace }, name).then((o) => {
        if (!o) return null;
        const out: KeyData = {};
        // Secret data is base64; ConfigMap data is text and binaryData base64.
        for (const [key, v] of Object.entries(o.data ?? {})) out[key] = kind === 'secrets' ? Buffer.from(v, 'base64') : Buffer.from(v);
        for (const [key, v] of Object.entries(o.binaryData ?? {})) out[key] = Buffer.from(v, 'base64');
        return out;
      });
      this.cache.set(k, p);
    }
    return p.then((d) => {
      if (!d && !optional) throw invalid(`${kind === 'secrets' ? 'secret' : 'configmap'} "${name}" not found`);
      return d;
    });
  }
}
