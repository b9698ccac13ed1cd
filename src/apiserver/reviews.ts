// Create-only review resources that are answered, not stored:
// SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview,
// SelfSubjectRulesReview (`kubectl auth can-i --list`), SelfSubjectReview (`kubectl auth whoami`),
// and TokenReview (webhook token authentication: node agents check their callers' tokens).
import type { Authenticator } from './authn.js';
import type { UserInfo } from './user-info.js';
import type { Authorizer } from './authorizer.js';
import { badRequest } from './status.js';
import { TugError } from '../errdefs.js';

/** Reviews about other users reveal who a token is or what someone may do: RBAC decides who may ask (system:auth-delegator). */
const delegated: Record<string, { group: string; resource: string }> = {
  TokenReview: { group: 'authentication.k8s.io', resource: 'tokenreviews' },
  SubjectAccessReview: { group: 'authorization.k8s.io', resource: 'subjectaccessreviews' },
};

export async function handleVirtual(kind: string, body: any, user: UserInfo, authz: Authorizer, authn?: Authenticator): Promise<Record<string, unknown>> {
  if (!body || typeof body !== 'object') throw badRequest('the request body must be an object');
  const d = delegated[kind];
  if (d && !(await authz.authorize(user, { verb: 'create', ...d })).allowed) {
    throw new TugError('forbidden', `${d.resource}.${d.group} is forbidden: User "${user.name}" cannot create resource "${d.resource}" in API group "${d.group}" at the cluster scope`);
  }
  switch (kind) {
    case 'TokenReview': {
      const token = body.spec?.token;
      if (typeof token !== 'string' || !token) throw badRequest('spec.token: Required value');
      const u = authn ? await authn.authenticateToken(token) : null;
      return {
        kind,
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: body.spec,
        status: u ? { authenticated: true, user: { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups } } : { authenticated: false, user: {} },
      };
    }
    case 'SelfSubjectAccessReview':
      return review(body, user, authz);
    case 'SubjectAccessReview': {
      const s = body.spec ?? {};
      return review(body, { name: s.user ?? '', uid: s.uid, groups: s.groups ?? [] }, authz);
    }
    case 'SelfSubjectReview':
      return { kind, apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, status: { userInfo: { username: user.name, uid: user.uid, groups: user.groups } } };
    case 'SelfSubjectRulesReview': {
      const masters = user.groups.includes('system:masters');
      return {
        kind,
        apiVersion: 'authorization.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: body.spec ?? {},
        status: {
          resourceRules: masters ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] : [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] }],
          nonResourceRules: masters ? [{ verbs: ['*'], nonResourceURLs: ['*'] }] : [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/version', '/openapi', '/openapi/*'] }],
          incomplete: !masters,
        },
      };
    }
    default:
      throw badRequest(`unsupported review kind ${kind}`);
  }
}

async function review(body: any, user: UserInfo, authz: Authorizer): Promise<Record<string, unknown>> {
  const ra = body.spec?.resourceAttributes;
  const nra = body.spec?.nonResourceAttributes;
  let decision;
  if (ra) {
    decision = await authz.authorize(user, { verb: ra.verb ?? '', group: ra.group ?? '', resource: ra.resource ?? '', subresource: ra.subresource || undefined, namespace: ra.namespace || undefined, name: ra.name || undefined });
  } else if (nra) {
    decision = await authz.authorize(user, { verb: nra.verb ?? '', group: '', resource: '', path: nra.path ?? '' });
  } else throw badRequest('spec.resourceAttributes or spec.nonResourceAttributes is required');
  return {
    kind: body.kind ?? 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: body.spec,
    status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
  };
}
