// Every resource type the API server serves, and lookups by plural, kind and
// short name. Adding a type means adding it to `builtinTypes`.
import type { ResourceType } from './resource-type.js';
import { podType } from './core-pod.js';
import * as core from './core-types.js';
import * as workloads from './workload-types.js';
import * as batch from './batch-types.js';
import * as misc from './misc-types.js';
import * as net from './network-policy-types.js';
import { crdType } from './crd-type.js';
import { csrType } from './certificates-types.js';

export const builtinTypes: readonly ResourceType[] = [
  core.namespaceType,
  podType,
  core.serviceType,
  core.endpointsType,
  core.nodeType,
  core.configMapType,
  core.secretType,
  core.serviceAccountType,
  core.eventType,
  core.persistentVolumeType,
  core.persistentVolumeClaimType,
  core.resourceQuotaType,
  core.limitRangeType,
  workloads.deploymentType,
  workloads.replicaSetType,
  workloads.replicationControllerType,
  workloads.statefulSetType,
  workloads.daemonSetType,
  workloads.controllerRevisionType,
  batch.jobType,
  batch.cronJobType,
  workloads.hpaType,
  workloads.hpaV1Type,
  misc.leaseType,
  misc.endpointSliceType,
  misc.roleType,
  misc.clusterRoleType,
  misc.roleBindingType,
  misc.clusterRoleBindingType,
  misc.storageClassType,
  net.ingressType,
  net.ingressClassType,
  net.networkPolicyType,
  net.podDisruptionBudgetType,
  net.priorityClassType,
  crdType,
  misc.apiServiceType,
  csrType,
];

export interface GroupVersion {
  group: string;
  version: string;
}

export class TypeRegistry {
  private readonly byPath = new Map<string, ResourceType>();
  private readonly byKind = new Map<string, ResourceType>();
  private list: ResourceType[] = [];
  /** Bumped on every add/remove so caches (OpenAPI documents) know to rebuild. */
  generation = 0;

  constructor(types: readonly ResourceType[] = builtinTypes) {
    for (const t of types) this.add(t);
  }

  get types(): readonly ResourceType[] {
    return this.list;
  }

  /** Adds or replaces a type (CustomResourceDefinitions come and go at run time). */
  add(t: ResourceType): void {
    this.remove(t.group, t.version, t.plural);
    this.byPath.set(`${t.group}/${t.version}/${t.plural}`, t);
    this.byKind.set(`${t.group}/${t.version}/${t.kind}`, t);
    this.list = [...this.list, t];
    this.generation++;
  }

  remove(group: string, version: string, plural: string): void {
    const old = this.byPath.get(`${group}/${version}/${plural}`);
    if (!old) return;
    this.byPath.delete(`${group}/${version}/${plural}`);
    this.byKind.delete(`${group}/${version}/${old.kind}`);
    this.list = this.list.filter((x) => x !== old);
    this.generation++;
  }

  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  byGroupVersionKind(group: string, version: string, kind: string): ResourceType | undefined {
    return this.byKind.get(`${group}/${version}/${kind}`);
  }

  /** Groups in the order discovery presents them; each with its versions. */
  groupVersions(): GroupVersion[] {
    const seen = new Map<string, GroupVersion>();
    for (const t of this.types) seen.set(`${t.group}/${t.version}`, { group: t.group, version: t.version });
    return [...seen.values()];
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.types.filter((t) => t.group === group && t.version === version);
  }

  /** Storage prefix for a type: /registry/<plural>/ (the group is left out, as Kubernetes does for built-ins). */
  /** Storage prefix for a type (all versions of a type share it). */
  static keyPrefix(t: ResourceType, namespace?: string): string {
    return namespace && t.namespaced ? `/registry/${storageName(t)}/${namespace}/` : `/registry/${storageName(t)}/`;
  }

  static key(t: ResourceType, namespace: string | undefined, name: string): string {
    return t.namespaced ? `/registry/${storageName(t)}/${namespace}/${name}` : `/registry/${storageName(t)}/${name}`;
  }
}

/** Built-in plurals are unique across groups, so the plural alone names them; custom resources are group-qualified. */
function storageName(t: ResourceType): string {
  return t.storageResource ?? t.plural;
}
