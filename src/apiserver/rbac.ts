// RBAC authorization over the stored Role/ClusterRole/(Cluster)RoleBinding
// objects. system:masters bypasses it, as in Kubernetes.
import type { ObjectStore } from './object-store.js';
import type { KObject } from '../kube/api/resource-type.js';
import type { UserInfo } from './user-info.js';
import type { Attributes, Authorizer, Decision } from './authorizer.js';

export type { Attributes } from './authorizer.js';
/** Any authorizer (the chain the server runs); pod-proxy.ts knows it by this name. */
export type RbacAuthorizer = Authorizer;

function ruleMatches(rule: any, a: Attributes): boolean {
  const verbs: string[] = rule.verbs ?? [];
  if (!verbs.includes('*') && !verbs.includes(a.verb)) return false;
  if (a.path !== undefined) {
    return (rule.nonResourceURLs ?? []).some((u: string) => u === '*' || u === a.path || (u.endsWith('*') && a.path!.startsWith(u.slice(0, -1))));
  }
  const groups: string[] = rule.apiGroups ?? [];
  if (!groups.includes('*') && !groups.includes(a.group)) return false;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources: string[] = rule.resources ?? [];
  if (!resources.some((r) => r === '*' || r === res || (a.subresource && r === `*/${a.subresource}`) || (r === `${a.resource}/*` && a.subresource))) return false;
  const names: string[] = rule.resourceNames ?? [];
  if (names.length && (!a.name || !names.includes(a.name))) return false;
  return true;
}

function subjectMatches(s: any, u: UserInfo, bindingNs?: string): boolean {
  if (s.kind === 'User') return s.name === u.name;
  if (s.kind === 'Group') return u.groups.includes(s.name);
  if (s.kind === 'ServiceAccount') return u.name === `system:serviceaccount:${s.namespace ?? bindingNs}:${s.name}`;
  return false;
}

export class RoleAuthorizer implements Authorizer {
  constructor(private readonly objects: ObjectStore) {}

  async authorize(u: UserInfo, a: Attributes): Promise<Decision> {
    if (u.groups.includes('system:masters')) return { allowed: true, reason: 'system:masters' };
    const reg = this.objects.registry;
    const crType = reg.lookup('rbac.authorization.k8s.io', 'v1', 'clusterroles')!;
    const rType = reg.lookup('rbac.authorization.k8s.io', 'v1', 'roles')!;
    const crbType = reg.lookup('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings')!;
    const rbType = reg.lookup('rbac.authorization.k8s.io', 'v1', 'rolebindings')!;
    const rulesOf = async (kind: string, name: string, ns?: string): Promise<any[]> => {
      const role: KObject | null = kind === 'ClusterRole' ? await this.objects.getOrNull(crType, undefined, name) : await this.objects.getOrNull(rType, ns, name);
      return role?.rules ?? [];
    };
    for (const b of (await this.objects.list(crbType, undefined)).items) {
      if (!(b.subjects ?? []).some((s: any) => subjectMatches(s, u))) continue;
      for (const r of await rulesOf('ClusterRole', b.roleRef?.name)) {
        if (ruleMatches(r, a)) return { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "${b.metadata?.name}"` };
      }
    }
    if (a.namespace && a.path === undefined) {
      for (const b of (await this.objects.list(rbType, a.namespace)).items) {
        if (!(b.subjects ?? []).some((s: any) => subjectMatches(s, u, a.namespace))) continue;
        for (const r of await rulesOf(b.roleRef?.kind, b.roleRef?.name, a.namespace)) {
          if (ruleMatches(r, a)) return { allowed: true, reason: `RBAC: allowed by RoleBinding "${b.metadata?.name}/${a.namespace}"` };
        }
      }
    }
    return { allowed: false, reason: '' };
  }
}
