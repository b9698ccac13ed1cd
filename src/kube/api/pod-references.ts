// What a pod names of its namespace, for the node authorizer: the Secrets,
// ConfigMaps and PersistentVolumeClaims a node may read because a pod bound
// to it uses them (env, envFrom, volumes, projected sources, image pull
// secrets, generic ephemeral volumes), and the ServiceAccount it runs as.
// The same edges Kubernetes' node authorizer keeps in its graph.
import type { KObject } from './resource-type.js';

export interface PodReferences {
  secrets: Set<string>;
  configMaps: Set<string>;
  claims: Set<string>;
  serviceAccount: string;
}

const add = (set: Set<string>, name: unknown) => {
  if (typeof name === 'string' && name) set.add(name);
};

export function podReferences(pod: KObject): PodReferences {
  const r: PodReferences = { secrets: new Set(), configMaps: new Set(), claims: new Set(), serviceAccount: pod.spec?.serviceAccountName || 'default' };
  const spec = pod.spec ?? {};
  for (const s of spec.imagePullSecrets ?? []) add(r.secrets, s?.name);
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])]) {
    for (const e of c?.env ?? []) {
      add(r.secrets, e?.valueFrom?.secretKeyRef?.name);
      add(r.configMaps, e?.valueFrom?.configMapKeyRef?.name);
    }
    for (const e of c?.envFrom ?? []) {
      add(r.secrets, e?.secretRef?.name);
      add(r.configMaps, e?.configMapRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    if (!v || typeof v !== 'object') continue;
    add(r.secrets, v.secret?.secretName);
    add(r.configMaps, v.configMap?.name);
    add(r.claims, v.persistentVolumeClaim?.claimName);
    // A generic ephemeral volume's claim is named <pod>-<volume> (Kubernetes' ephemeral.VolumeClaimName).
    if (v.ephemeral) add(r.claims, `${pod.metadata?.name}-${v.name}`);
    for (const p of v.projected?.sources ?? []) {
      add(r.secrets, p?.secret?.name);
      add(r.configMaps, p?.configMap?.name);
    }
    // Volume plugins that name a Secret for their credentials (cephfs, rbd, iscsi, flexVolume, csi...; azureFile by secretName).
    for (const [kind, src] of Object.entries(v)) {
      if (kind === 'secret' || !src || typeof src !== 'object') continue;
      const s = src as Record<string, any>;
      add(r.secrets, s.secretRef?.name);
      add(r.secrets, s.nodePublishSecretRef?.name);
      if (kind === 'azureFile') add(r.secrets, s.secretName);
    }
  }
  return r;
}
