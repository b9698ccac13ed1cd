// The names storage is spoken in (annotations, finalizers, the provisioner's
// name) and the few readings of PV/PVC objects that the API server's
// admission, the controllers, the scheduler and the node agent all need.
// Names are Kubernetes' own where Kubernetes has one.
import type { KObject } from './resource-type.js';
import { parseQuantity } from './quantity.js';

/**
 * tug's own provisioner (what k3s ships as Rancher's local-path-provisioner).
 * Its own name rather than `rancher.io/local-path`: it is not Rancher's code
 * (no helper pods, no ConfigMap), and a user who installs the real
 * local-path-provisioner next to it must not get two provisioners answering
 * the same claims.
 */
export const LOCAL_PATH_PROVISIONER = 'tug.io/local-path';
export const DEFAULT_STORAGE_CLASS = 'local-path';
/** A class of static volumes only (local volumes made by an administrator): nothing provisions for it. */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

export const IS_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const BETA_IS_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';
/** The node the scheduler chose for a WaitForFirstConsumer claim; the provisioner makes the volume there. */
export const SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
export const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION = 'kubernetes.io/pv-protection';
/** Held on a local-path PV until the agent of its node has removed the directory. */
export const LOCAL_PATH_CLEANUP = 'tug.io/local-path-cleanup';
/** Node annotation: where that node's agent keeps local-path volumes (each agent has its own data dir). */
export const NODE_LOCAL_PATH_DIR = 'tug.io/local-path-dir';

/** The claim's class: spec.storageClassName, else the beta annotation; '' = no class. undefined = unset. */
export function claimClass(pvc: KObject): string | undefined {
  return pvc.spec?.storageClassName ?? pvc.metadata?.annotations?.[BETA_STORAGE_CLASS];
}

export function volumeClass(pv: KObject): string {
  return pv.spec?.storageClassName ?? pv.metadata?.annotations?.[BETA_STORAGE_CLASS] ?? '';
}

export function isDefaultClass(sc: KObject): boolean {
  const a = sc.metadata?.annotations ?? {};
  return a[IS_DEFAULT_CLASS] === 'true' || a[BETA_IS_DEFAULT_CLASS] === 'true';
}

/** Bytes a claim asks for (spec.resources.requests.storage). */
export function claimRequest(pvc: KObject): number {
  return parseQuantity(pvc.spec?.resources?.requests?.storage) ?? 0;
}

export function volumeCapacity(pv: KObject): number {
  return parseQuantity(pv.spec?.capacity?.storage) ?? 0;
}

/** The claims a pod's volumes name (persistentVolumeClaim and generic ephemeral are not told apart here). */
export function podClaimNames(pod: KObject): string[] {
  return (pod.spec?.volumes ?? []).map((v: any) => v.persistentVolumeClaim?.claimName).filter((n: unknown): n is string => typeof n === 'string' && n !== '');
}

/** Does the PV's claimRef name this claim (by uid when both have one)? */
export function volumeBoundToClaim(pv: KObject, pvc: KObject): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref || ref.name !== pvc.metadata?.name || (ref.namespace ?? '') !== (pvc.metadata?.namespace ?? '')) return false;
  return !ref.uid || ref.uid === pvc.metadata?.uid;
}

/** The node names a PV's required node affinity pins it to with kubernetes.io/hostname In [...] (local-path PVs have exactly one). */
export function volumeHostnames(pv: KObject): string[] {
  const out: string[] = [];
  for (const t of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const e of t.matchExpressions ?? []) if (e.key === 'kubernetes.io/hostname' && e.operator === 'In') out.push(...(e.values ?? []));
  }
  return out;
}

const accessModeNames = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];

/** The checks Kubernetes' validation makes of a claim's spec (ValidatePersistentVolumeClaimSpec, and ...Update), in its words. */
export function validateClaimSpec(o: KObject, old?: KObject): Array<{ field: string; type: string; message: string }> {
  const errs: Array<{ field: string; type: string; message: string }> = [];
  if (old && !sameClaimSpec(o, old)) {
    errs.push({ field: 'spec', type: 'FieldValueForbidden', message: 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' });
  }
  const modes: unknown = o.spec?.accessModes;
  if (!Array.isArray(modes) || !modes.length) errs.push({ field: 'spec.accessModes', type: 'FieldValueRequired', message: 'Required value: at least 1 access mode is required' });
  else {
    for (const m of modes) {
      if (!accessModeNames.includes(m)) errs.push({ field: 'spec.accessModes', type: 'FieldValueNotSupported', message: `Unsupported value: "${String(m)}": supported values: "${accessModeNames.join('", "')}"` });
    }
    if (modes.includes('ReadWriteOncePod') && modes.length > 1) errs.push({ field: 'spec.accessModes', type: 'FieldValueForbidden', message: 'Forbidden: may not use ReadWriteOncePod with other access modes' });
  }
  const storage = o.spec?.resources?.requests?.storage;
  if (storage === undefined || storage === null || storage === '') errs.push({ field: 'spec.resources[storage]', type: 'FieldValueRequired', message: 'Required value' });
  else if (parseQuantity(storage) === undefined) errs.push({ field: 'spec.resources[storage]', type: 'FieldValueInvalid', message: `Invalid value: "${String(storage)}": must be a quantity` });
  else if ((parseQuantity(storage) ?? 0) <= 0) errs.push({ field: 'spec.resources[storage]', type: 'FieldValueInvalid', message: `Invalid value: "${String(storage)}": must be greater than zero` });
  const mode = o.spec?.volumeMode;
  if (mode !== undefined && mode !== 'Filesystem' && mode !== 'Block') errs.push({ field: 'spec.volumeMode', type: 'FieldValueNotSupported', message: `Unsupported value: "${String(mode)}": supported values: "Block", "Filesystem"` });
  return errs;
}

/**
 * A claim's spec may change after creation only in resources.requests and
 * volumeAttributesClassName; volumeName may be set once (by the binder) and
 * storageClassName once when it was unset.
 */
function sameClaimSpec(o: KObject, old: KObject): boolean {
  const comparable = (spec: Record<string, unknown> | undefined): string => {
    const s: Record<string, unknown> = { volumeMode: 'Filesystem', ...(spec ?? {}) };
    delete s.resources;
    delete s.volumeAttributesClassName;
    if (!old.spec?.volumeName) delete s.volumeName;
    if (old.spec?.storageClassName === undefined || old.spec?.storageClassName === null) delete s.storageClassName;
    return canonical(s);
  };
  return comparable(o.spec) === comparable(old.spec);
}

/** JSON with object keys sorted, so key order does not count as a change. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

type FieldErr = { field: string; type: string; message: string };
const volumeSources = ['hostPath', 'local', 'nfs', 'csi', 'iscsi', 'fc', 'rbd', 'cephfs', 'glusterfs', 'awsElasticBlockStore', 'gcePersistentDisk', 'azureDisk', 'azureFile', 'cinder', 'flexVolume', 'flocker', 'photonPersistentDisk', 'portworxVolume', 'quobyte', 'scaleIO', 'storageos', 'vsphereVolume'];

/** ValidatePersistentVolume's checks, in Kubernetes' words. */
export function validateVolumeSpec(o: KObject, old?: KObject): FieldErr[] {
  const errs: FieldErr[] = [];
  const spec = o.spec ?? {};
  if (!Array.isArray(spec.accessModes) || !spec.accessModes.length) errs.push({ field: 'spec.accessModes', type: 'FieldValueRequired', message: 'Required value' });
  else for (const m of spec.accessModes) if (!accessModeNames.includes(m)) errs.push({ field: 'spec.accessModes', type: 'FieldValueNotSupported', message: `Unsupported value: "${String(m)}": supported values: "${accessModeNames.join('", "')}"` });
  const storage = spec.capacity?.storage;
  if (storage === undefined || storage === null || storage === '') errs.push({ field: 'spec.capacity', type: 'FieldValueRequired', message: 'Required value' });
  else if (parseQuantity(storage) === undefined) errs.push({ field: 'spec.capacity[storage]', type: 'FieldValueInvalid', message: `Invalid value: "${String(storage)}": must be a quantity` });
  const sources = volumeSources.filter((k) => spec[k] !== undefined && spec[k] !== null);
  if (!sources.length) errs.push({ field: 'spec', type: 'FieldValueRequired', message: 'Required value: must specify a volume type' });
  else if (sources.length > 1) errs.push({ field: `spec.${sources[1]}`, type: 'FieldValueForbidden', message: 'Forbidden: may not specify more than 1 volume type' });
  if (spec.hostPath && !String(spec.hostPath.path ?? '').startsWith('/')) errs.push({ field: 'spec.hostPath.path', type: 'FieldValueInvalid', message: `Invalid value: "${String(spec.hostPath.path ?? '')}": must be an absolute path` });
  if (spec.local) {
    if (!String(spec.local.path ?? '').startsWith('/')) errs.push({ field: 'spec.local.path', type: 'FieldValueInvalid', message: `Invalid value: "${String(spec.local.path ?? '')}": must be an absolute path` });
    if (!spec.nodeAffinity) errs.push({ field: 'spec.nodeAffinity', type: 'FieldValueRequired', message: 'Required value: Local volume requires node affinity' });
  }
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy !== undefined && !['Delete', 'Retain', 'Recycle'].includes(policy)) errs.push({ field: 'spec.persistentVolumeReclaimPolicy', type: 'FieldValueNotSupported', message: `Unsupported value: "${String(policy)}": supported values: "Delete", "Recycle", "Retain"` });
  if (old) {
    for (const k of new Set([...volumeSources.filter((s) => old.spec?.[s] !== undefined), ...sources])) {
      if (canonical(old.spec?.[k]) !== canonical(spec[k])) errs.push({ field: 'spec.persistentvolumesource', type: 'FieldValueForbidden', message: 'Forbidden: spec.persistentvolumesource is immutable after creation' });
    }
  }
  // One message per kind of change is enough.
  return errs.filter((e, i) => errs.findIndex((x) => x.message === e.message && x.field === e.field) === i);
}

/** ValidateStorageClass(Update)'s checks. */
export function validateStorageClass(o: KObject, old?: KObject): FieldErr[] {
  const errs: FieldErr[] = [];
  if (o.reclaimPolicy !== undefined && !['Delete', 'Retain'].includes(o.reclaimPolicy)) errs.push({ field: 'reclaimPolicy', type: 'FieldValueNotSupported', message: `Unsupported value: "${String(o.reclaimPolicy)}": supported values: "Delete", "Retain"` });
  if (o.volumeBindingMode !== undefined && !['Immediate', 'WaitForFirstConsumer'].includes(o.volumeBindingMode)) {
    errs.push({ field: 'volumeBindingMode', type: 'FieldValueNotSupported', message: `Unsupported value: "${String(o.volumeBindingMode)}": supported values: "Immediate", "WaitForFirstConsumer"` });
  }
  if (old) {
    if (o.provisioner !== old.provisioner) errs.push({ field: 'provisioner', type: 'FieldValueForbidden', message: 'Forbidden: updates to provisioner are forbidden.' });
    if (canonical(o.parameters ?? {}) !== canonical(old.parameters ?? {})) errs.push({ field: 'parameters', type: 'FieldValueForbidden', message: 'Forbidden: updates to parameters are forbidden.' });
    if (o.reclaimPolicy !== old.reclaimPolicy) errs.push({ field: 'reclaimPolicy', type: 'FieldValueForbidden', message: 'Forbidden: updates to reclaimPolicy are forbidden.' });
    if (o.volumeBindingMode !== old.volumeBindingMode) errs.push({ field: 'volumeBindingMode', type: 'FieldValueInvalid', message: 'Invalid value: "' + String(o.volumeBindingMode) + '": field is immutable' });
  }
  return errs;
}
