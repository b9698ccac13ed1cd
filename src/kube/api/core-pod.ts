// core/v1 Pod: schema (shared PodSpec also used by workload templates),
// defaulting, validation and the columns kubectl prints.
import { define, obj, str, int, int64, bool, arr, strMap, loose, keyedList } from './schema.js';
import { kindSchema, checkDns1123Label, required, age, nameColumn, objectMeta } from './meta.js';
import { defineType } from './define-type.js';
import type { FieldError, KObject } from './resource-type.js';

const containerPort = define(
  'io.k8s.api.core.v1.ContainerPort',
  obj(
    {
      containerPort: int('Number of port to expose on the pod\'s IP address.'),
      hostIP: str('What host IP to bind the external port to.'),
      hostPort: int('Number of port to expose on the host.'),
      name: str('An IANA_SVC_NAME name for the port.'),
      protocol: str('Protocol for port. Must be UDP, TCP, or SCTP. Defaults to "TCP".'),
    },
    { required: ['containerPort'], description: 'ContainerPort represents a network port in a single container.' },
  ),
);

const envVar = define(
  'io.k8s.api.core.v1.EnvVar',
  obj(
    { name: str('Name of the environment variable.'), value: str('Variable value.'), valueFrom: loose('Source for the value.') },
    { required: ['name'], description: 'EnvVar represents an environment variable present in a Container.' },
  ),
);

const volumeMount = define(
  'io.k8s.api.core.v1.VolumeMount',
  obj(
    {
      name: str('This must match the Name of a Volume.'),
      mountPath: str('Path within the container at which the volume should be mounted.'),
      readOnly: bool('Mounted read-only if true.'),
      subPath: str('Path within the volume from which the container\'s volume should be mounted.'),
      subPathExpr: str(),
      mountPropagation: str(),
      recursiveReadOnly: str(),
    },
    { required: ['name', 'mountPath'], description: 'VolumeMount describes a mounting of a Volume within a container.' },
  ),
);

const resources = define(
  'io.k8s.api.core.v1.ResourceRequirements',
  obj(
    {
      limits: { type: 'object', additionalProperties: { intOrString: true }, description: 'Limits describes the maximum amount of compute resources allowed.' },
      requests: { type: 'object', additionalProperties: { intOrString: true }, description: 'Requests describes the minimum amount of compute resources required.' },
      claims: arr(loose()),
    },
    { description: 'ResourceRequirements describes the compute resource requirements.' },
  ),
);

const containerFields = {
  name: str('Name of the container specified as a DNS_LABEL.'),
  image: str('Container image name.'),
  command: arr(str(), { description: 'Entrypoint array. Not executed within a shell.' }),
  args: arr(str(), { description: 'Arguments to the entrypoint.' }),
  workingDir: str('Container\'s working directory.'),
  ports: { ...keyedList(containerPort, 'containerPort', 'List of ports to expose from the container.'), listMapKeys: ['containerPort', 'protocol'] },
  envFrom: arr(loose(), { description: 'List of sources to populate environment variables in the container.' }),
  env: keyedList(envVar, 'name', 'List of environment variables to set in the container.'),
  resources,
  resizePolicy: arr(loose()),
  restartPolicy: str(),
  volumeMounts: keyedList(volumeMount, 'mountPath', 'Pod volumes to mount into the container\'s filesystem.'),
  volumeDevices: keyedList(loose(), 'devicePath'),
  livenessProbe: loose('Periodic probe of container liveness.'),
  readinessProbe: loose('Periodic probe of container service readiness.'),
  startupProbe: loose('StartupProbe indicates that the Pod has successfully initialized.'),
  lifecycle: loose('Actions that the management system should take in response to container lifecycle events.'),
  terminationMessagePath: str(),
  terminationMessagePolicy: str(),
  imagePullPolicy: str('Image pull policy. One of Always, Never, IfNotPresent.'),
  securityContext: loose('SecurityContext defines the security options the container should be run with.'),
  stdin: bool(),
  stdinOnce: bool(),
  tty: bool(),
};

const container = define(
  'io.k8s.api.core.v1.Container',
  obj(containerFields, { required: ['name'], description: 'A single application container that you want to run within a pod.' }),
);

const volume = define(
  'io.k8s.api.core.v1.Volume',
  obj(
    {
      name: str('Name of the volume. Must be a DNS_LABEL and unique within the pod.'),
      emptyDir: loose('emptyDir represents a temporary directory that shares a pod\'s lifetime.'),
      hostPath: loose('hostPath represents a pre-existing file or directory on the host machine.'),
      configMap: loose('configMap represents a configMap that should populate this volume.'),
      secret: loose('secret represents a secret that should populate this volume.'),
      persistentVolumeClaim: loose('persistentVolumeClaimVolumeSource represents a reference to a PersistentVolumeClaim.'),
      projected: loose(),
      downwardAPI: loose(),
      nfs: loose(),
      csi: loose(),
      ephemeral: loose(),
    },
    { required: ['name'], description: 'Volume represents a named volume in a pod.' },
  ),
);

export const podSpec = define(
  'io.k8s.api.core.v1.PodSpec',
  obj(
    {
      containers: keyedList(container, 'name', 'List of containers belonging to the pod.'),
      initContainers: keyedList(container, 'name', 'List of initialization containers belonging to the pod.'),
      ephemeralContainers: keyedList(loose(), 'name'),
      volumes: { ...keyedList(volume, 'name', 'List of volumes that can be mounted by containers belonging to the pod.'), patchStrategy: 'merge,retainKeys' },
      restartPolicy: str('Restart policy for all containers within the pod. One of Always, OnFailure, Never.'),
      terminationGracePeriodSeconds: int64('Optional duration in seconds the pod needs to terminate gracefully.'),
      activeDeadlineSeconds: int64(),
      dnsPolicy: str('Set DNS policy for the pod. Defaults to "ClusterFirst".'),
      nodeSelector: strMap('NodeSelector is a selector which must be true for the pod to fit on a node.'),
      serviceAccountName: str('ServiceAccountName is the name of the ServiceAccount to use to run this pod.'),
      serviceAccount: str('Deprecated: use serviceAccountName instead.'),
      automountServiceAccountToken: bool(),
      nodeName: str('NodeName indicates in which node this pod is scheduled.'),
      hostNetwork: bool('Host networking requested for this pod.'),
      hostPID: bool(),
      hostIPC: bool(),
      shareProcessNamespace: bool(),
      securityContext: loose('SecurityContext holds pod-level security attributes.'),
      imagePullSecrets: keyedList(obj({ name: str() }), 'name'),
      hostname: str(),
      subdomain: str(),
      affinity: loose('If specified, the pod\'s scheduling constraints.'),
      schedulerName: str(),
      tolerations: arr(loose(), { description: 'If specified, the pod\'s tolerations.' }),
      hostAliases: keyedList(loose(), 'ip'),
      priorityClassName: str(),
      priority: int(),
      dnsConfig: loose(),
      readinessGates: arr(loose()),
      runtimeClassName: str(),
      enableServiceLinks: bool(),
      preemptionPolicy: str(),
      overhead: loose(),
      topologySpreadConstraints: arr(loose()),
      setHostnameAsFQDN: bool(),
      os: loose(),
      hostUsers: bool(),
      schedulingGates: arr(loose()),
      resourceClaims: arr(loose()),
    },
    { required: ['containers'], description: 'PodSpec is a description of a pod.' },
  ),
);

export const podTemplateSpec = define(
  'io.k8s.api.core.v1.PodTemplateSpec',
  obj({ metadata: objectMeta, spec: podSpec }, { description: 'PodTemplateSpec describes the data a pod should have when created from a template.' }),
);

const podStatus = define('io.k8s.api.core.v1.PodStatus', { ...loose('Most recently observed status of the pod.'), properties: { phase: str('The phase of a Pod.'), podIP: str(), hostIP: str() } });

function defaultContainer(c: any): void {
  if (!c || typeof c !== 'object') return;
  if (c.imagePullPolicy === undefined && typeof c.image === 'string') {
    const lastPart = c.image.split('/').pop() ?? '';
    const hasDigest = c.image.includes('@');
    const tag = lastPart.includes(':') ? lastPart.split(':').pop() : '';
    c.imagePullPolicy = !hasDigest && (!tag || tag === 'latest') ? 'Always' : 'IfNotPresent';
  }
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const p of c.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
}

/** Defaults of a PodSpec (also applied inside workload templates). */
export function defaultPodSpec(spec: any): void {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
}

function validateContainers(list: any, path: string, errs: FieldError[]): void {
  if (!Array.isArray(list)) return;
  const seen = new Set<string>();
  list.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    errs.push(...required(c?.name, `${p}.name`));
    if (typeof c?.name === 'string' && c.name) {
      errs.push(...checkDns1123Label(c.name, `${p}.name`));
      if (seen.has(c.name)) errs.push({ field: `${p}.name`, type: 'FieldValueDuplicate', message: `Duplicate value: "${c.name}"` });
      seen.add(c.name);
    }
    errs.push(...required(c?.image, `${p}.image`));
    (c?.ports ?? []).forEach((port: any, j: number) => {
      const n = port?.containerPort;
      if (typeof n !== 'number' || n < 1 || n > 65535) {
        errs.push({ field: `${p}.ports[${j}].containerPort`, type: 'FieldValueInvalid', message: `Invalid value: ${String(n)}: must be between 1 and 65535, inclusive` });
      }
    });
    if (c?.imagePullPolicy && !['Always', 'Never', 'IfNotPresent'].includes(c.imagePullPolicy)) {
      errs.push({ field: `${p}.imagePullPolicy`, type: 'FieldValueNotSupported', message: `Unsupported value: "${c.imagePullPolicy}": supported values: "Always", "IfNotPresent", "Never"` });
    }
  });
}

export function validatePodSpec(spec: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec || typeof spec !== 'object') return [{ field: path, type: 'FieldValueRequired', message: 'Required value' }];
  errs.push(...required(spec.containers, `${path}.containers`));
  validateContainers(spec.containers, `${path}.containers`, errs);
  validateContainers(spec.initContainers, `${path}.initContainers`, errs);
  if (spec.restartPolicy && !['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy)) {
    errs.push({ field: `${path}.restartPolicy`, type: 'FieldValueNotSupported', message: `Unsupported value: "${spec.restartPolicy}": supported values: "Always", "OnFailure", "Never"` });
  }
  const vols = new Set<string>();
  (spec.volumes ?? []).forEach((v: any, i: number) => {
    errs.push(...required(v?.name, `${path}.volumes[${i}].name`));
    if (v?.name) vols.add(v.name);
  });
  for (const [key, list] of [['containers', spec.containers], ['initContainers', spec.initContainers]] as const) {
    (list ?? []).forEach((c: any, i: number) =>
      (c?.volumeMounts ?? []).forEach((m: any, j: number) => {
        if (m?.name && !vols.has(m.name)) {
          errs.push({ field: `${path}.${key}[${i}].volumeMounts[${j}].name`, type: 'FieldValueNotFound', message: `Not found: "${m.name}"` });
        }
      }),
    );
  }
  return errs;
}

/**
 * A pod's spec is fixed once created, except container images,
 * activeDeadlineSeconds, added tolerations and the first binding to a node.
 */
function podSpecUpdate(o: KObject, old: KObject | undefined): FieldError[] {
  if (!old) return [];
  const strip = (spec: any) => {
    const s = structuredClone(spec ?? {});
    for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete c.image;
    delete s.activeDeadlineSeconds;
    delete s.tolerations;
    if (!old.spec?.nodeName) delete s.nodeName;
    return JSON.stringify(s);
  };
  if (strip(o.spec) === strip(old.spec)) return [];
  return [{ field: 'spec', type: 'FieldValueForbidden', message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)' }];
}

/** STATUS column as kubectl shows it: waiting/terminated reasons win over the phase. */
export function podStatusText(p: KObject): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  let reason: string = p.status?.reason ?? p.status?.phase ?? 'Pending';
  for (const cs of p.status?.containerStatuses ?? []) {
    if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
    else if (cs.state?.terminated?.reason && reason !== 'Running') reason = cs.state.terminated.reason;
  }
  return reason;
}

function podReady(p: KObject): string {
  const total = p.spec?.containers?.length ?? 0;
  const ready = (p.status?.containerStatuses ?? []).filter((c: any) => c.ready).length;
  return `${ready}/${total}`;
}

function podRestarts(p: KObject): number {
  return (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0);
}

export const podType = defineType({
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  shortNames: ['po'],
  categories: ['all'],
  namespaced: true,
  status: true,
  schemaName: 'io.k8s.api.core.v1.Pod',
  schema: kindSchema('io.k8s.api.core.v1.Pod', { group: '', version: 'v1', kind: 'Pod' }, 'Pod is a collection of containers that can run on a host.', {
    spec: podSpec,
    status: podStatus,
  }),
  hasSpec: false,
  defaults(o) {
    defaultPodSpec(o.spec);
    if (o.spec) {
      o.spec.serviceAccountName ??= o.spec.serviceAccount ?? 'default';
      o.spec.serviceAccount ??= o.spec.serviceAccountName;
      o.spec.enableServiceLinks ??= true;
      o.spec.priority ??= 0;
      // Limits without requests: the requests equal the limits (SetDefaults_Pod).
      for (const c of [...(o.spec.containers ?? []), ...(o.spec.initContainers ?? [])]) {
        const lim = c?.resources?.limits;
        if (!lim || typeof lim !== 'object') continue;
        c.resources.requests ??= {};
        for (const [r, v] of Object.entries(lim)) c.resources.requests[r] ??= v;
      }
    }
    o.status ??= {};
    o.status.phase ??= 'Pending';
  },
  validate: (o, old) => [...validatePodSpec(o.spec, 'spec'), ...podSpecUpdate(o, old)],
  columns: [
    nameColumn,
    { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', priority: 0, cell: podReady },
    { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', priority: 0, cell: podStatusText },
    { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted.', priority: 0, cell: (p) => String(podRestarts(p)) },
    { name: 'Age', type: 'string', description: 'CreationTimestamp', priority: 0, cell: age },
    { name: 'IP', type: 'string', description: 'The IP address assigned to the pod', priority: 1, cell: (p) => p.status?.podIP ?? '<none>' },
    { name: 'Node', type: 'string', description: 'The node this pod is running on', priority: 1, cell: (p) => p.spec?.nodeName ?? '<none>' },
    { name: 'Nominated Node', type: 'string', description: 'The nominated node', priority: 1, cell: (p) => p.status?.nominatedNodeName ?? '<none>' },
    { name: 'Readiness Gates', type: 'string', description: 'Readiness gates', priority: 1, cell: (p) => (p.spec?.readinessGates?.length ? String(p.spec.readinessGates.length) : '<none>') },
  ],
  fieldSelectors: {
    'spec.nodeName': (p) => p.spec?.nodeName ?? '',
    'spec.restartPolicy': (p) => p.spec?.restartPolicy,
    'spec.schedulerName': (p) => p.spec?.schedulerName,
    'spec.serviceAccountName': (p) => p.spec?.serviceAccountName,
    'status.phase': (p) => p.status?.phase ?? '',
    'status.podIP': (p) => p.status?.podIP ?? '',
    'status.nominatedNodeName': (p) => p.status?.nominatedNodeName ?? '',
  },
});

