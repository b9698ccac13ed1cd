// ServiceAccount admission for Pods (Kubernetes' plugin/pkg/admission/serviceaccount):
// defaults spec.serviceAccountName to "default", refuses a pod whose
// ServiceAccount does not exist, and (unless the pod or its ServiceAccount
// opts out) adds the kube-api-access-XXXXX projected volume, mounted read-only
// at /var/run/secrets/kubernetes.io/serviceaccount in every container, which is
// what rest.InClusterConfig and kubectl-in-a-pod read.
import { randomInt } from 'node:crypto';
import { isKind, TugError } from '../errdefs.js';
import type { KObject, ResourceType } from '../kube/api/resource-type.js';
import type { ObjectStore } from './object-store.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const VOLUME_PREFIX = 'kube-api-access-';
/** Kubernetes' serviceaccount.WarnOnlyBoundTokenExpirationSeconds. */
const TOKEN_EXPIRATION_SECONDS = 3607;
/** utilrand.String's alphabet (no vowels, no confusable digits), as names.SimpleNameGenerator uses. */
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** The projected source Kubernetes' TokenVolumeSource() builds (defaultMode 0644 set explicitly, as upstream does). */
export function tokenVolumeSource(): Record<string, unknown> {
  return {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_CHARS[randomInt(NAME_CHARS.length)];
  return s;
}

export class ServiceAccountAdmission {
  constructor(private readonly objects: ObjectStore) {}

  private get saType(): ResourceType {
    return this.objects.registry.lookup('', 'v1', 'serviceaccounts')!;
  }

  /** The pod's ServiceAccount as stored now (undefined: not a pod this admission looks at), for admit(); changes nothing. */
  async lookup(t: ResourceType, o: KObject): Promise<KObject | null | undefined> {
    if (!applies(t, o)) return undefined;
    return this.objects.getOrNull(this.saType, o.metadata!.namespace!, serviceAccountNameOf(o));
  }

  /** `prefetched`: what lookup() returned for this pod, saving a read. */
  async admit(t: ResourceType, o: KObject, prefetched?: KObject | null): Promise<void> {
    if (!applies(t, o)) return;
    const ns = o.metadata!.namespace!;
    const spec = (o.spec ??= {});
    spec.serviceAccountName = serviceAccountNameOf(o);
    spec.serviceAccount = spec.serviceAccountName;
    const name: string = spec.serviceAccountName;
    const sa = prefetched ?? (await this.serviceAccount(ns, name));
    if (!sa) {
      throw new TugError('forbidden', `pods "${o.metadata?.name}" is forbidden: error looking up service account ${ns}/${name}: serviceaccount "${name}" not found`);
    }
    // The pod's preference wins, then the ServiceAccount's; mounting is the default.
    const automount = spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
    if (automount) mountToken(spec);
    if (!spec.imagePullSecrets?.length && sa.imagePullSecrets?.length) {
      spec.imagePullSecrets = sa.imagePullSecrets.map((s: { name: string }) => ({ name: s.name }));
    }
  }

  /**
   * The ServiceAccount, or null. The namespace's "default" one is made
   * asynchronously after the namespace; a pod created right behind its
   * namespace makes it here instead of racing that (idempotent: whoever
   * creates it second just reads it back).
   */
  private async serviceAccount(ns: string, name: string): Promise<KObject | null> {
    const found = await this.objects.getOrNull(this.saType, ns, name);
    if (found || name !== DEFAULT_SERVICE_ACCOUNT) return found;
    try {
      return (await this.objects.create(this.saType, ns, { metadata: { name } }, { fieldManager: 'serviceaccount-controller' })).object;
    } catch (err) {
      if (isKind(err, 'already-exists')) return this.objects.getOrNull(this.saType, ns, name);
      // The namespace is gone or terminating: report the ServiceAccount as missing.
      if (isKind(err, 'not-found') || isKind(err, 'forbidden')) return null;
      throw err;
    }
  }
}

/** Pods, except mirror pods (static pods the kubelet reports), which keep their spec as written. */
function applies(t: ResourceType, o: KObject): boolean {
  return t.kind === 'Pod' && !!o.metadata?.namespace && o.metadata?.annotations?.['kubernetes.io/config.mirror'] === undefined;
}

/** The deprecated serviceAccount field is the v1 alias of serviceAccountName. */
function serviceAccountNameOf(o: KObject): string {
  return o.spec?.serviceAccountName || o.spec?.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
}

/** Adds the token volume (unless one exists) and its mount to every container not already mounting the path. */
function mountToken(spec: KObject): void {
  const volumes: Array<{ name: string }> = (spec.volumes ??= []);
  const existing = volumes.find((v) => v.name.startsWith(VOLUME_PREFIX));
  let volumeName = existing?.name;
  while (!volumeName || (!existing && volumes.some((v) => v.name === volumeName))) volumeName = VOLUME_PREFIX + randomSuffix();
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const mounts: Array<{ mountPath: string }> = (c.volumeMounts ??= []);
    if (mounts.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    mounts.push({ name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH } as { mountPath: string });
    needed = true;
  }
  if (!existing && needed) volumes.push({ name: volumeName, projected: tokenVolumeSource() } as { name: string });
  if (!volumes.length) delete spec.volumes;
}
