// ConfigMaps and Secrets a pod reads (env, envFrom, volumes), read once per
// sync so every container of one sync sees one version (from the node's
// watch-based cache of them, pod-source-cache.ts, or else from the API server);
// and ServiceAccount tokens for projected volumes, requested through
// TokenRequest and reused until 80% of their life has passed (as the kubelet
// refreshes them), so a sync does not mint a token each time.
import type { KubeClient, KubeObject } from '../../kube/client/kube-client.js';
import { invalid } from '../../errdefs.js';
import type { PodSourceCache } from './pod-source-cache.js';
import type { Pod, ServiceAccountTokenProjection } from './pod-types.js';

export type KeyData = Record<string, Buffer>;

interface IssuedToken {
  token: string;
  refreshAt: number;
  expiresAt: number;
}

// Keyed by pod uid, ServiceAccount and request; expired entries are dropped on the next request.
const issuedTokens = new Map<string, IssuedToken>();

export class PodSources {
  private readonly cache = new Map<string, Promise<KeyData | null>>();

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    /** The node's watches of what its pods use, and the pod reading (absent: every read is a GET). */
    private readonly watched?: { cache: PodSourceCache; podUid: string },
  ) {}

  configMap(name: string, optional = false): Promise<KeyData | null> {
    return this.fetch('configmaps', name, optional);
  }

  secret(name: string, optional = false): Promise<KeyData | null> {
    return this.fetch('secrets', name, optional);
  }

  /** A token for the pod's ServiceAccount, bound to the pod; a missing ServiceAccount fails the sync as a missing Secret would. */
  async serviceAccountToken(pod: Pod, src: ServiceAccountTokenProjection): Promise<Buffer> {
    const sa = pod.spec.serviceAccountName || 'default';
    const seconds = src.expirationSeconds ?? 3607;
    const key = `${pod.metadata.uid}/${sa}/${src.audience ?? ''}/${seconds}`;
    const now = Date.now();
    const hit = issuedTokens.get(key);
    if (hit && now < hit.refreshAt) return Buffer.from(hit.token);
    for (const [k, v] of issuedTokens) if (v.expiresAt <= now) issuedTokens.delete(k);
    const ref = { group: '', version: 'v1', resource: `serviceaccounts/${encodeURIComponent(sa)}/token`, namespace: this.namespace };
    const boundObjectRef = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid };
    const res = await this.client.create<{ status: { token: string; expirationTimestamp: string } }>(ref, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: src.audience ? [src.audience] : [], expirationSeconds: seconds, boundObjectRef },
    });
    const expiresAt = Date.parse(res.status.expirationTimestamp) || now + seconds * 1000;
    issuedTokens.set(key, { token: res.status.token, refreshAt: now + (expiresAt - now) * 0.8, expiresAt });
    return Buffer.from(res.status.token);
  }

  /** A PersistentVolumeClaim of the pod's namespace (null when missing); read fresh each sync, binding changes it. */
  claim(name: string): Promise<KubeObject | null> {
    return this.client.getOrNull({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace: this.namespace }, name);
  }

  volume(name: string): Promise<KubeObject | null> {
    return this.client.getOrNull({ group: '', version: 'v1', resource: 'persistentvolumes' }, name);
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
      const read = this.watched
        ? this.watched.cache.get(kind, this.namespace, name, this.watched.podUid)
        : this.client.getOrNull({ group: '', version: 'v1', resource: kind, namespace: this.namespace }, name);
      p = (read as Promise<{ data?: Record<string, string>; binaryData?: Record<string, string> } | null>).then((o) => {
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
