// Pieces every type shares: the ObjectMeta schema, name validation, the NAME
// and AGE table columns, and Kubernetes' human-readable durations.
import { define, obj, str, int64, time, strMap, arr, bool, loose, type Schema } from './schema.js';
import type { FieldError, KObject, TableColumn } from './resource-type.js';

const ownerReference = define(
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference',
  obj(
    {
      apiVersion: str('API version of the referent.'),
      kind: str('Kind of the referent.'),
      name: str('Name of the referent.'),
      uid: str('UID of the referent.'),
      controller: bool('If true, this reference points to the managing controller.'),
      blockOwnerDeletion: bool('If true, the owner cannot be deleted from storage until this reference is removed.'),
    },
    { required: ['apiVersion', 'kind', 'name', 'uid'], description: 'OwnerReference identifies an owning object.' },
  ),
);

const managedFieldsEntry = define(
  'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry',
  obj({
    apiVersion: str(),
    fieldsType: str(),
    fieldsV1: loose(),
    manager: str(),
    operation: str(),
    subresource: str(),
    time: time(),
  }),
);

export const objectMeta = define(
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
  obj(
    {
      name: str('Name must be unique within a namespace.'),
      generateName: str('Optional prefix used by the server to generate a unique name.'),
      namespace: str('Namespace defines the space within which each name must be unique.'),
      selfLink: str('Deprecated.'),
      uid: str('UID is the unique in time and space value for this object.'),
      resourceVersion: str('An opaque value that represents the internal version of this object.'),
      generation: int64('A sequence number representing a specific generation of the desired state.'),
      creationTimestamp: time('Time when this object was created.'),
      deletionTimestamp: time('Time at which this resource will be deleted.'),
      deletionGracePeriodSeconds: int64('Seconds allowed for graceful termination.'),
      labels: strMap('Map of string keys and values used to organize and categorize objects.'),
      annotations: strMap('Unstructured key value map stored with a resource.'),
      ownerReferences: { ...arr(ownerReference), mergeKey: 'uid', patchStrategy: 'merge' },
      finalizers: { ...arr(str()), patchStrategy: 'merge' },
      managedFields: arr(managedFieldsEntry),
    },
    { description: 'Standard object metadata.' },
  ),
);

export const labelSelector = define(
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
  obj(
    {
      matchLabels: strMap('matchLabels is a map of {key,value} pairs.'),
      matchExpressions: arr(
        obj({ key: str(), operator: str(), values: arr(str()) }, { required: ['key', 'operator'] }),
      ),
    },
    { description: 'A label selector is a label query over a set of resources.' },
  ),
);

/** Schema of a top-level kind: apiVersion, kind, metadata plus its own fields. */
export function kindSchema(
  name: string,
  gvk: { group: string; version: string; kind: string },
  description: string,
  fields: Record<string, Schema>,
): Schema {
  define(
    name,
    obj(
      {
        apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
        kind: str('Kind is a string value representing the REST resource this object represents.'),
        metadata: objectMeta,
        ...fields,
      },
      { description, gvk },
    ),
  );
  return { ref: name };
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function checkDns1123Subdomain(value: string, field: string): FieldError[] {
  if (value.length > 253 || !dns1123Subdomain.test(value)) {
    return [
      {
        field,
        type: 'FieldValueInvalid',
        message: `Invalid value: "${value}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      },
    ];
  }
  return [];
}

export function checkDns1123Label(value: string, field: string): FieldError[] {
  if (value.length > 63 || !dns1123Label.test(value)) {
    return [
      {
        field,
        type: 'FieldValueInvalid',
        message: `Invalid value: "${value}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`,
      },
    ];
  }
  return [];
}

const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export function checkLabels(labels: Record<string, string> | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const slash = k.lastIndexOf('/');
    const nm = slash >= 0 ? k.slice(slash + 1) : k;
    const prefix = slash >= 0 ? k.slice(0, slash) : '';
    if (nm.length > 63 || !labelName.test(nm) || (prefix && checkDns1123Subdomain(prefix, field).length)) {
      errs.push({ field, type: 'FieldValueInvalid', message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'` });
    }
    if (typeof v !== 'string' || v.length > 63 || !labelValue.test(v)) {
      errs.push({ field: `${field}`, type: 'FieldValueInvalid', message: `Invalid value: "${String(v)}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'` });
    }
  }
  return errs;
}

export function required(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
    return [{ field, type: 'FieldValueRequired', message: 'Required value' }];
  }
  return [];
}

/** Kubernetes' duration.HumanDuration: 45s, 5m3s, 3h, 2d4h, 1y... */
export function humanDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const d = Math.floor(hours / 24) % 365;
    return d === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${d}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

export function age(o: KObject, now: number): string {
  const ts = o.metadata?.creationTimestamp;
  return ts ? humanDuration(now - Date.parse(ts)) : '<unknown>';
}

export const nameColumn: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  priority: 0,
  cell: (o) => o.metadata?.name ?? '',
};

export const ageColumn: TableColumn = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
  cell: age,
};

export function col(name: string, cell: TableColumn['cell'], priority = 0, type: TableColumn['type'] = 'string'): TableColumn {
  return { name, type, description: name, priority, cell };
}

/** Renders a LabelSelector the way kubectl prints it (app=web,tier in (a,b)). */
export function selectorString(sel: any): string {
  if (!sel) return '<none>';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${String(v)}`);
  for (const e of sel.matchExpressions ?? []) {
    const op = String(e.operator);
    if (op === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (op === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (op === 'Exists') parts.push(`${e.key}`);
    else if (op === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(',') : '<none>';
}

export function mapString(m: Record<string, string> | undefined): string {
  const parts = Object.entries(m ?? {}).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(',') : '<none>';
}
