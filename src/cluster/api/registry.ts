// Every resource type the API server serves, and lookups by plural, kind and
// short name. Adding a type means adding it to `builtinTypes`.
import type { ResourceType } from './resource-type.js';
import { podType } from './core-pod.js';
import * as core from './core-types.js';
import * as workloads from './workload-types.js';
import * as misc from './misc-types.js';
import * as net from './network-policy-types.js';

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
  workloads.statefulSetType,
  workloads.daemonSetType,
  workloads.controllerRevisionType,
  workloads.jobType,
  workloads.cronJobType,
  workloads.hpaType,
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
];

export interface GroupVersion {
  group: string;
  version: string;
}

export class TypeRegistry {
  private readonly byPath = new Map<string, ResourceType>();
  private readonly byKind = new Map<string, ResourceType>();

  constructor(readonly types: readonly ResourceType[] = builtinTypes) {
    for (const t of types) {
      this.byPath.set(`${t.group}/${t.version}/${t.plural}`, t);
      this.byKind.set(`${t.group}/${t.version}/${t.kind}`, t);
    }
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
  static keyPrefix(t: ResourceType, namespace?: string): string {
    return namespace && t.namespaced ? `/registry/${storageName(t)}/${namespace}/` : `/registry/${storageName(t)}/`;
  }

  static key(t: ResourceType, namespace: string | undefined, name: string): string {
    return t.namespaced ? `/registry/${storageName(t)}/${namespace}/${name}` : `/registry/${storageName(t)}/${name}`;
  }
}

/** Built-in plurals are unique across groups, so the plural alone names the storage prefix. */
function storageName(t: ResourceType): string {
  return t.plural;
}
