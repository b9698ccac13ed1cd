// core/v1 types other than Pod.
import { define, obj, str, int, bool, arr, strMap, loose, keyedList, intOrStr } from './schema.js';
import { kindSchema, required, nameColumn, ageColumn, col, mapString, humanDuration } from './meta.js';
import { defineType } from './define-type.js';
import type { FieldError, KObject } from './resource-type.js';
import { validateClaimSpec, validateVolumeSpec } from './storage.js';

const core = (kind: string) => ({ group: '', version: 'v1', kind });
const schemaOf = (kind: string, description: string, fields: Parameters<typeof kindSchema>[3]) => ({
  schemaName: `io.k8s.api.core.v1.${kind}`,
  schema: kindSchema(`io.k8s.api.core.v1.${kind}`, core(kind), description, fields),
});

export const namespaceType = defineType({
  ...core('Namespace'),
  plural: 'namespaces',
  shortNames: ['ns'],
  namespaced: false,
  status: true,
  hasSpec: false,
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  ...schemaOf('Namespace', 'Namespace provides a scope for Names.', {
    spec: obj({ finalizers: arr(str()) }, { description: 'Spec defines the behavior of the Namespace.' }),
    status: obj({ phase: str('Phase is the current lifecycle phase of the namespace.'), conditions: arr(loose()) }),
  }),
  defaults(o) {
    // spec.finalizers is set once at creation (see the server's namespace hooks); removing it finalizes deletion.
    o.spec ??= {};
    o.status ??= {};
    o.status.phase ??= 'Active';
    o.metadata!.labels = { ...(o.metadata!.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata!.name ?? '' };
  },
  columns: [nameColumn, col('Status', (o) => o.status?.phase ?? ''), ageColumn],
  fieldSelectors: { 'status.phase': (o) => o.status?.phase },
});

const servicePort = define(
  'io.k8s.api.core.v1.ServicePort',
  obj(
    {
      name: str('The name of this port within the service.'),
      protocol: str('The IP protocol for this port. Supports "TCP", "UDP", and "SCTP". Default is TCP.'),
      appProtocol: str(),
      port: int('The port that will be exposed by this service.'),
      targetPort: intOrStr('Number or name of the port to access on the pods targeted by the service.'),
      nodePort: int('The port on each node on which this service is exposed when type is NodePort or LoadBalancer.'),
    },
    { required: ['port'], description: 'ServicePort contains information on service\'s port.' },
  ),
);

function servicePorts(o: KObject): string {
  const ports = (o.spec?.ports ?? []).map((p: any) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`));
  return ports.length ? ports.join(',') : '<none>';
}

function externalIp(o: KObject): string {
  const t = o.spec?.type;
  if (t === 'ExternalName') return o.spec?.externalName ?? '<none>';
  const lb = (o.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip ?? i.hostname);
  const ext = [...(o.spec?.externalIPs ?? []), ...lb];
  if (ext.length) return ext.join(',');
  return t === 'LoadBalancer' ? '<pending>' : '<none>';
}

export const serviceType = defineType({
  ...core('Service'),
  plural: 'services',
  shortNames: ['svc'],
  categories: ['all'],
  namespaced: true,
  status: true,
  hasSpec: false,
  ...schemaOf('Service', 'Service is a named abstraction of software service consisting of local port that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.', {
    spec: define(
      'io.k8s.api.core.v1.ServiceSpec',
      obj(
        {
          ports: { ...keyedList(servicePort, 'port', 'The list of ports that are exposed by this service.'), listMapKeys: ['port', 'protocol'] },
          selector: strMap('Route service traffic to pods with label keys and values matching this selector.'),
          clusterIP: str('clusterIP is the IP address of the service.'),
          clusterIPs: arr(str()),
          type: str('type determines how the Service is exposed. Defaults to ClusterIP.'),
          externalIPs: arr(str()),
          sessionAffinity: str(),
          loadBalancerIP: str(),
          loadBalancerSourceRanges: arr(str()),
          externalName: str(),
          externalTrafficPolicy: str(),
          healthCheckNodePort: int(),
          publishNotReadyAddresses: bool(),
          sessionAffinityConfig: loose(),
          ipFamilies: arr(str()),
          ipFamilyPolicy: str(),
          allocateLoadBalancerNodePorts: bool(),
          loadBalancerClass: str(),
          internalTrafficPolicy: str(),
          trafficDistribution: str(),
        },
        { description: 'ServiceSpec describes the attributes that a user creates on a service.' },
      ),
    ),
    status: loose('Most recently observed status of the service.'),
  }),
  defaults(o) {
    const s = (o.spec ??= {});
    s.type ??= 'ClusterIP';
    s.sessionAffinity ??= 'None';
    if (s.type !== 'ExternalName') {
      s.ipFamilies ??= ['IPv4'];
      s.ipFamilyPolicy ??= 'SingleStack';
      s.internalTrafficPolicy ??= 'Cluster';
    }
    if (s.type === 'NodePort' || s.type === 'LoadBalancer') s.externalTrafficPolicy ??= 'Cluster';
    if (s.type === 'LoadBalancer') s.allocateLoadBalancerNodePorts ??= true;
    for (const p of s.ports ?? []) {
      if (!p || typeof p !== 'object') continue;
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
    o.status ??= { loadBalancer: {} };
  },
  validate(o) {
    const errs: FieldError[] = [];
    const s = o.spec ?? {};
    if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(s.type)) {
      errs.push({ field: 'spec.type', type: 'FieldValueNotSupported', message: `Unsupported value: "${s.type}": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"` });
    }
    if (s.type !== 'ExternalName' && s.clusterIP !== 'None') errs.push(...required(s.ports, 'spec.ports'));
    (s.ports ?? []).forEach((p: any, i: number) => {
      if (typeof p?.port !== 'number' || p.port < 1 || p.port > 65535) {
        errs.push({ field: `spec.ports[${i}].port`, type: 'FieldValueInvalid', message: `Invalid value: ${String(p?.port)}: must be between 1 and 65535, inclusive` });
      }
      if ((s.ports?.length ?? 0) > 1 && !p?.name) errs.push({ field: `spec.ports[${i}].name`, type: 'FieldValueRequired', message: 'Required value' });
    });
    return errs;
  },
  columns: [
    nameColumn,
    col('Type', (o) => o.spec?.type ?? ''),
    col('Cluster-IP', (o) => o.spec?.clusterIP ?? '<none>'),
    col('External-IP', externalIp),
    col('Port(s)', servicePorts),
    ageColumn,
    col('Selector', (o) => mapString(o.spec?.selector), 1),
  ],
});

function endpointsText(o: KObject): string {
  const out: string[] = [];
  for (const ss of o.subsets ?? []) for (const a of ss.addresses ?? []) for (const p of ss.ports ?? [{}]) out.push(p.port ? `${a.ip}:${p.port}` : a.ip);
  if (!out.length) return '<none>';
  return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : out.join(',');
}

export const endpointsType = defineType({
  ...core('Endpoints'),
  plural: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  namespaced: true,
  hasSpec: false,
  ...schemaOf('Endpoints', 'Endpoints is a collection of endpoints that implement the actual service.', { subsets: arr(loose()) }),
  columns: [nameColumn, col('Endpoints', endpointsText), ageColumn],
});

function nodeReady(o: KObject): string {
  const c = (o.status?.conditions ?? []).find((x: any) => x.type === 'Ready');
  let s = c ? (c.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown';
  if (o.spec?.unschedulable) s += ',SchedulingDisabled';
  return s;
}

function nodeRoles(o: KObject): string {
  const roles = Object.keys(o.metadata?.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  return roles.length ? roles.join(',') : '<none>';
}

const nodeAddr = (o: KObject, type: string) => (o.status?.addresses ?? []).find((a: any) => a.type === type)?.address ?? '<none>';

export const nodeType = defineType({
  ...core('Node'),
  plural: 'nodes',
  shortNames: ['no'],
  namespaced: false,
  status: true,
  hasSpec: false,
  ...schemaOf('Node', 'Node is a worker node in Kubernetes.', {
    spec: obj({ podCIDR: str(), podCIDRs: arr(str()), providerID: str(), unschedulable: bool(), taints: arr(loose()), configSource: loose(), externalID: str() }),
    status: loose(),
  }),
  columns: [
    nameColumn,
    col('Status', nodeReady),
    col('Roles', nodeRoles),
    ageColumn,
    col('Version', (o) => o.status?.nodeInfo?.kubeletVersion ?? ''),
    col('Internal-IP', (o) => nodeAddr(o, 'InternalIP'), 1),
    col('External-IP', (o) => nodeAddr(o, 'ExternalIP'), 1),
    col('OS-Image', (o) => o.status?.nodeInfo?.osImage ?? '<unknown>', 1),
    col('Kernel-Version', (o) => o.status?.nodeInfo?.kernelVersion ?? '<unknown>', 1),
    col('Container-Runtime', (o) => o.status?.nodeInfo?.containerRuntimeVersion ?? '<unknown>', 1),
  ],
  fieldSelectors: { 'spec.unschedulable': (o) => String(o.spec?.unschedulable ?? false) },
});

const countData = (o: KObject) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length;

export const configMapType = defineType({
  ...core('ConfigMap'),
  plural: 'configmaps',
  shortNames: ['cm'],
  namespaced: true,
  hasSpec: false,
  ...schemaOf('ConfigMap', 'ConfigMap holds configuration data for pods to consume.', {
    data: strMap('Data contains the configuration data.'),
    binaryData: strMap('BinaryData contains the binary data.'),
    immutable: bool('Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated.'),
  }),
  validate(o, old) {
    const errs: FieldError[] = [];
    for (const k of [...Object.keys(o.data ?? {}), ...Object.keys(o.binaryData ?? {})]) {
      if (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253) errs.push({ field: `data[${k}]`, type: 'FieldValueInvalid', message: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'` });
    }
    if (old?.immutable && JSON.stringify([o.data, o.binaryData]) !== JSON.stringify([old.data, old.binaryData])) {
      errs.push({ field: 'data', type: 'FieldValueForbidden', message: 'Forbidden: field is immutable when `immutable` is set' });
    }
    return errs;
  },
  columns: [nameColumn, col('Data', countData, 0, 'integer'), ageColumn],
});

export const secretType = defineType({
  ...core('Secret'),
  plural: 'secrets',
  namespaced: true,
  hasSpec: false,
  ...schemaOf('Secret', 'Secret holds secret data of a certain type.', {
    data: strMap('Data contains the secret data, base64 encoded.'),
    stringData: strMap('stringData allows specifying non-binary secret data in string form.'),
    type: str('Used to facilitate programmatic handling of secret data.'),
    immutable: bool(),
  }),
  defaults(o) {
    o.type ??= 'Opaque';
    // stringData is write-only: merged into data, never stored.
    if (o.stringData && typeof o.stringData === 'object') {
      o.data ??= {};
      for (const [k, v] of Object.entries(o.stringData)) o.data[k] = Buffer.from(String(v)).toString('base64');
      delete o.stringData;
    }
  },
  validate(o) {
    const errs: FieldError[] = [];
    for (const [k, v] of Object.entries(o.data ?? {})) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) errs.push({ field: `data[${k}]`, type: 'FieldValueInvalid', message: 'Invalid value: illegal base64 data' });
    }
    return errs;
  },
  columns: [nameColumn, col('Type', (o) => o.type ?? ''), col('Data', (o) => Object.keys(o.data ?? {}).length, 0, 'integer'), ageColumn],
  fieldSelectors: { type: (o) => o.type },
});

export const serviceAccountType = defineType({
  ...core('ServiceAccount'),
  plural: 'serviceaccounts',
  shortNames: ['sa'],
  namespaced: true,
  hasSpec: false,
  ...schemaOf('ServiceAccount', 'ServiceAccount binds together a name, a principal that can be authenticated, and a set of secrets.', {
    secrets: keyedList(loose(), 'name'),
    imagePullSecrets: arr(obj({ name: str() })),
    automountServiceAccountToken: bool(),
  }),
  columns: [nameColumn, col('Secrets', (o) => (o.secrets ?? []).length, 0, 'integer'), ageColumn],
});

function lastSeen(o: KObject, now: number): string {
  const t = o.lastTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp;
  return t ? humanDuration(now - Date.parse(t)) : '<unknown>';
}

export const eventType = defineType({
  ...core('Event'),
  plural: 'events',
  shortNames: ['ev'],
  namespaced: true,
  hasSpec: false,
  ...schemaOf('Event', 'Event is a report of an event somewhere in the cluster.', {
    involvedObject: loose('The object that this event is about.'),
    reason: str(),
    message: str(),
    source: loose(),
    firstTimestamp: { type: 'string', format: 'date-time' },
    lastTimestamp: { type: 'string', format: 'date-time' },
    count: int(),
    type: str(),
    eventTime: { type: 'string', format: 'date-time' },
    series: loose(),
    action: str(),
    related: loose(),
    reportingComponent: str(),
    reportingInstance: str(),
  }),
  columns: [
    col('Last Seen', lastSeen),
    col('Type', (o) => o.type ?? ''),
    col('Reason', (o) => o.reason ?? ''),
    col('Object', (o) => `${String(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}`),
    col('Message', (o) => o.message ?? ''),
    { ...nameColumn, priority: 1 },
  ],
  fieldSelectors: {
    'involvedObject.kind': (o) => o.involvedObject?.kind,
    'involvedObject.name': (o) => o.involvedObject?.name,
    'involvedObject.namespace': (o) => o.involvedObject?.namespace,
    'involvedObject.uid': (o) => o.involvedObject?.uid,
    'involvedObject.fieldPath': (o) => o.involvedObject?.fieldPath,
    reason: (o) => o.reason,
    type: (o) => o.type,
    source: (o) => o.source?.component,
    reportingComponent: (o) => o.reportingComponent,
  },
});

const accessModes = (o: KObject) => abbreviatedModes(o.spec?.accessModes);
const abbreviatedModes = (modes: string[] | undefined) => (modes ?? []).map((m: string) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[m] ?? m).join(',');

export const persistentVolumeType = defineType({
  ...core('PersistentVolume'),
  plural: 'persistentvolumes',
  shortNames: ['pv'],
  namespaced: false,
  status: true,
  hasSpec: false,
  ...schemaOf('PersistentVolume', 'PersistentVolume (PV) is a storage resource provisioned by an administrator.', { spec: loose(), status: loose() }),
  defaults(o) {
    o.spec ??= {};
    o.spec.persistentVolumeReclaimPolicy ??= 'Retain';
    o.spec.volumeMode ??= 'Filesystem';
    o.status ??= {};
    o.status.phase ??= 'Pending';
  },
  validate: (o, old) => validateVolumeSpec(o, old),
  columns: [
    nameColumn,
    col('Capacity', (o) => o.spec?.capacity?.storage ?? ''),
    col('Access Modes', accessModes),
    col('Reclaim Policy', (o) => o.spec?.persistentVolumeReclaimPolicy ?? ''),
    col('Status', (o) => o.status?.phase ?? ''),
    col('Claim', (o) => (o.spec?.claimRef ? `${o.spec.claimRef.namespace}/${o.spec.claimRef.name}` : '')),
    col('StorageClass', (o) => o.spec?.storageClassName ?? ''),
    col('VolumeAttributesClass', (o) => o.spec?.volumeAttributesClassName ?? '<unset>'),
    col('Reason', (o) => o.status?.reason ?? ''),
    ageColumn,
    col('VolumeMode', (o) => o.spec?.volumeMode ?? '', 1),
  ],
});

export const persistentVolumeClaimType = defineType({
  ...core('PersistentVolumeClaim'),
  plural: 'persistentvolumeclaims',
  shortNames: ['pvc'],
  namespaced: true,
  status: true,
  hasSpec: false,
  ...schemaOf('PersistentVolumeClaim', 'PersistentVolumeClaim is a user\'s request for and claim to a persistent volume.', { spec: loose(), status: loose() }),
  defaults(o) {
    o.spec ??= {};
    o.spec.volumeMode ??= 'Filesystem';
    o.status ??= {};
    o.status.phase ??= 'Pending';
  },
  validate: (o, old) => validateClaimSpec(o, old),
  columns: [
    nameColumn,
    col('Status', (o) => o.status?.phase ?? ''),
    col('Volume', (o) => o.spec?.volumeName ?? ''),
    col('Capacity', (o) => o.status?.capacity?.storage ?? ''),
    col('Access Modes', (o) => abbreviatedModes(o.status?.accessModes)),
    col('StorageClass', (o) => o.spec?.storageClassName ?? ''),
    col('VolumeAttributesClass', (o) => o.spec?.volumeAttributesClassName ?? '<unset>'),
    ageColumn,
    col('VolumeMode', (o) => o.spec?.volumeMode ?? '', 1),
  ],
});

export const resourceQuotaType = defineType({
  ...core('ResourceQuota'),
  plural: 'resourcequotas',
  shortNames: ['quota'],
  namespaced: true,
  status: true,
  hasSpec: false,
  ...schemaOf('ResourceQuota', 'ResourceQuota sets aggregate quota restrictions enforced per namespace.', {
    spec: obj({ hard: { type: 'object', additionalProperties: { intOrString: true } }, scopes: arr(str()), scopeSelector: loose() }),
    status: loose(),
  }),
  columns: [nameColumn, ageColumn, col('Request', (o) => Object.entries(o.spec?.hard ?? {}).map(([k, v]) => `${k}: ${(o.status?.used ?? {})[k] ?? 0}/${String(v)}`).join(', '))],
});

export const limitRangeType = defineType({
  ...core('LimitRange'),
  plural: 'limitranges',
  shortNames: ['limits'],
  namespaced: true,
  hasSpec: false,
  ...schemaOf('LimitRange', 'LimitRange sets resource usage limits for each kind of resource in a Namespace.', {
    spec: obj({ limits: arr(loose()) }, { required: ['limits'] }),
  }),
  columns: [nameColumn, { ...ageColumn, name: 'Created At', cell: (o) => o.metadata?.creationTimestamp ?? '' }],
});

