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
