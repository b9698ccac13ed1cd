// API discovery: the legacy documents (/api, /apis, /api/v1, /apis/g/v) and the
// aggregated apidiscovery.k8s.io/v2 form that kubectl 1.30+ asks for first.
import { TypeRegistry } from '../kube/api/registry.js';
import type { ResourceType } from '../kube/api/resource-type.js';
import { metricsResources } from './metrics/metrics-api.js';

/** Resources that are served but not stored: create-only reviews, and the read-only metrics API (metrics/metrics-api.ts). */
export interface VirtualResource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  verbs: string[];
}

export const virtualResources: VirtualResource[] = [
  { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', namespaced: false, verbs: ['create'] },
  { group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', namespaced: false, verbs: ['create'] },
  { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectRulesReview', plural: 'selfsubjectrulesreviews', namespaced: false, verbs: ['create'] },
  { group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', namespaced: false, verbs: ['create'] },
  { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview', plural: 'tokenreviews', namespaced: false, verbs: ['create'] },
  ...metricsResources,
];

function subresourcesOf(t: ResourceType): { name: string; kind: string; group: string; version: string; verbs: string[] }[] {
  const out = [];
  if (t.status) out.push({ name: 'status', kind: t.kind, group: t.group, version: t.version, verbs: ['get', 'patch', 'update'] });
  if (t.scale) out.push({ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] });
  if (t.kind === 'Pod') out.push({ name: 'binding', kind: 'Binding', group: '', version: 'v1', verbs: ['create'] });
  if (t.kind === 'Pod') out.push({ name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] });
  if (t.kind === 'ServiceAccount') out.push({ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] });
  return out;
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupsOf(reg: TypeRegistry): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  const add = (g: string, v: string) => {
    if (!g) return;
    const vs = groups.get(g) ?? [];
    if (!vs.includes(v)) vs.push(v);
    groups.set(g, vs);
  };
  for (const gv of reg.groupVersions()) add(gv.group, gv.version);
  for (const r of virtualResources) add(r.group, r.version);
  return groups;
}

export function apiGroupList(reg: TypeRegistry): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groupsOf(reg)].map(([name, versions]) => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

export function apiGroup(reg: TypeRegistry, group: string): Record<string, unknown> | undefined {
  const versions = groupsOf(reg).get(group);
  if (!versions) return undefined;
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${group}/${versions[0]}`, version: versions[0] },
  };
}

export function hasGroupVersion(reg: TypeRegistry, group: string, version: string): boolean {
  return reg.inGroupVersion(group, version).length > 0 || virtualResources.some((r) => r.group === group && r.version === version);
}

export function apiResourceList(reg: TypeRegistry, group: string, version: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const t of reg.inGroupVersion(group, version)) {
    resources.push({
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories.length ? { categories: t.categories } : {}),
      storageVersionHash: Buffer.from(`${t.group}/${t.version}/${t.kind}`).toString('base64').slice(0, 11),
    });
    for (const s of subresourcesOf(t)) {
      resources.push({ name: `${t.plural}/${s.name}`, singularName: '', namespaced: t.namespaced, kind: s.kind, verbs: s.verbs, ...(s.group !== t.group ? { group: s.group, version: s.version } : {}) });
    }
  }
  for (const r of virtualResources.filter((x) => x.group === group && x.version === version)) {
    resources.push({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: r.verbs });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

export const aggregatedContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Which aggregated discovery version the Accept header asks for, if any. */
export function wantsAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    if (!part.includes('as=APIGroupDiscoveryList')) continue;
    if (part.includes('v=v2beta1')) return 'v2beta1';
    if (part.includes('v=v2')) return 'v2';
  }
  return undefined;
}

function discoveryResources(reg: TypeRegistry, group: string, version: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = reg.inGroupVersion(group, version).map((t) => ({
    resource: t.plural,
    responseKind: { group: t.group, version: t.version, kind: t.kind },
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular,
    verbs: t.verbs,
    ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
    ...(t.categories.length ? { categories: t.categories } : {}),
    ...(subresourcesOf(t).length
      ? { subresources: subresourcesOf(t).map((s) => ({ subresource: s.name, responseKind: { group: s.group, version: s.version, kind: s.kind }, verbs: s.verbs })) }
      : {}),
  }));
  for (const r of virtualResources.filter((x) => x.group === group && x.version === version)) {
    out.push({ resource: r.plural, responseKind: { group: r.group, version: r.version, kind: r.kind }, scope: r.namespaced ? 'Namespaced' : 'Cluster', singularResource: r.kind.toLowerCase(), verbs: r.verbs });
  }
  return out;
}

/** /api (legacy=true) or /apis as an APIGroupDiscoveryList. */
export function aggregatedDiscovery(reg: TypeRegistry, legacy: boolean, version: 'v2' | 'v2beta1'): Record<string, unknown> {
  const items = legacy
    ? [{ metadata: { creationTimestamp: null }, versions: [{ version: 'v1', resources: discoveryResources(reg, '', 'v1'), freshness: 'Current' }] }]
    : [...groupsOf(reg)].map(([name, versions]) => ({
        metadata: { name, creationTimestamp: null },
        versions: versions.map((v) => ({ version: v, resources: discoveryResources(reg, name, v), freshness: 'Current' })),
      }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}
