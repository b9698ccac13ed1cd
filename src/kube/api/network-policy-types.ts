// networking.k8s.io, policy and scheduling kinds that common manifests carry
// alongside workloads (Ingress, NetworkPolicy, PodDisruptionBudget, PriorityClass).
import { str, int, bool, arr, loose, obj, intOrStr, type Schema } from './schema.js';
import { kindSchema, nameColumn, ageColumn, col, selectorString, labelSelector } from './meta.js';
import { defineType } from './define-type.js';
import type { FieldError, KObject } from './resource-type.js';

const schemaOf = (pkg: string, group: string, version: string, kind: string, description: string, fields: Record<string, Schema>) => ({
  group,
  version,
  kind,
  schemaName: `io.k8s.api.${pkg}.${version}.${kind}`,
  schema: kindSchema(`io.k8s.api.${pkg}.${version}.${kind}`, { group, version, kind }, description, fields),
});

function ingressPorts(o: KObject): string {
  return o.spec?.tls?.length ? '80, 443' : '80';
}

export const ingressType = defineType({
  ...schemaOf('networking', 'networking.k8s.io', 'v1', 'Ingress', 'Ingress is a collection of rules that allow inbound connections to reach the endpoints defined by a backend.', {
    spec: obj(
      { ingressClassName: str('ingressClassName is the name of an IngressClass cluster resource.'), defaultBackend: loose(), tls: arr(loose()), rules: arr(loose(), { description: 'rules is a list of host rules used to configure the Ingress.' }) },
      { description: 'IngressSpec describes the Ingress the user wishes to exist.' },
    ),
    status: loose(),
  }),
  plural: 'ingresses',
  shortNames: ['ing'],
  namespaced: true,
  status: true,
  hasSpec: true,
  validate(o) {
    const errs: FieldError[] = [];
    (o.spec?.rules ?? []).forEach((r: any, i: number) => {
      (r?.http?.paths ?? []).forEach((p: any, j: number) => {
        if (!p?.pathType) errs.push({ field: `spec.rules[${i}].http.paths[${j}].pathType`, type: 'FieldValueRequired', message: 'Required value: pathType must be specified' });
      });
    });
    return errs;
  },
  columns: [
    nameColumn,
    col('Class', (o) => o.spec?.ingressClassName ?? '<none>'),
    col('Hosts', (o) => (o.spec?.rules ?? []).map((r: any) => r.host ?? '*').join(',') || '*'),
    col('Address', (o) => (o.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip ?? i.hostname).join(',')),
    col('Ports', ingressPorts),
    ageColumn,
  ],
});

export const ingressClassType = defineType({
  ...schemaOf('networking', 'networking.k8s.io', 'v1', 'IngressClass', 'IngressClass represents the class of the Ingress, referenced by the Ingress Spec.', {
    spec: obj({ controller: str(), parameters: loose() }),
  }),
  plural: 'ingressclasses',
  namespaced: false,
  hasSpec: true,
  columns: [nameColumn, col('Controller', (o) => o.spec?.controller ?? ''), col('Parameters', (o) => (o.spec?.parameters ? `${o.spec.parameters.kind}/${o.spec.parameters.name}` : '<none>')), ageColumn],
});

export const networkPolicyType = defineType({
  ...schemaOf('networking', 'networking.k8s.io', 'v1', 'NetworkPolicy', 'NetworkPolicy describes what network traffic is allowed for a set of Pods.', {
    spec: obj({ podSelector: labelSelector, ingress: arr(loose()), egress: arr(loose()), policyTypes: arr(str()) }),
  }),
  plural: 'networkpolicies',
  shortNames: ['netpol'],
  namespaced: true,
  hasSpec: true,
  defaults(o) {
    o.spec ??= {};
    o.spec.podSelector ??= {};
    if (!o.spec.policyTypes) o.spec.policyTypes = o.spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
  },
  columns: [nameColumn, col('Pod-Selector', (o) => { const s = selectorString(o.spec?.podSelector); return s === '<none>' ? '<none>' : s; }), ageColumn],
});

export const podDisruptionBudgetType = defineType({
  ...schemaOf('policy', 'policy', 'v1', 'PodDisruptionBudget', 'PodDisruptionBudget is an object to define the max disruption that can be caused to a collection of pods.', {
    spec: obj({ minAvailable: intOrStr(), maxUnavailable: intOrStr(), selector: labelSelector, unhealthyPodEvictionPolicy: str() }),
    status: loose(),
  }),
  plural: 'poddisruptionbudgets',
  shortNames: ['pdb'],
  namespaced: true,
  status: true,
  hasSpec: true,
  validate(o) {
    if (o.spec?.minAvailable !== undefined && o.spec?.maxUnavailable !== undefined) {
      return [{ field: 'spec', type: 'FieldValueInvalid', message: 'Invalid value: minAvailable and maxUnavailable cannot be both set' }];
    }
    return [];
  },
  columns: [
    nameColumn,
    col('Min Available', (o) => (o.spec?.minAvailable !== undefined ? String(o.spec.minAvailable) : 'N/A')),
    col('Max Unavailable', (o) => (o.spec?.maxUnavailable !== undefined ? String(o.spec.maxUnavailable) : 'N/A')),
    col('Allowed Disruptions', (o) => o.status?.disruptionsAllowed ?? 0, 0, 'integer'),
    ageColumn,
  ],
});

export const priorityClassType = defineType({
  ...schemaOf('scheduling', 'scheduling.k8s.io', 'v1', 'PriorityClass', 'PriorityClass defines mapping from a priority class name to the priority integer value.', {
    value: int('value represents the integer value of this priority class.'),
    globalDefault: bool(),
    description: str(),
    preemptionPolicy: str(),
  }),
  plural: 'priorityclasses',
  shortNames: ['pc'],
  namespaced: false,
  hasSpec: false,
  defaults(o) {
    o.preemptionPolicy ??= 'PreemptLowerPriority';
  },
  validate: (o): FieldError[] => (typeof o.value === 'number' ? [] : [{ field: 'value', type: 'FieldValueRequired', message: 'Required value' }]),
  columns: [nameColumn, col('Value', (o) => o.value ?? 0, 0, 'integer'), col('Global-Default', (o) => String(o.globalDefault ?? false)), ageColumn, col('PreemptionPolicy', (o) => o.preemptionPolicy ?? '')],
});
