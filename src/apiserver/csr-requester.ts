// Who asked for a certificate: on create the API server overwrites a
// CertificateSigningRequest's spec.username/uid/groups/extra with the
// authenticated caller, as kube-apiserver does, so approvers can trust them.
import type { UserInfo } from './user-info.js';

export function stampRequester(body: unknown, user: UserInfo): void {
  if (!body || typeof body !== 'object') return;
  const o = body as { spec?: Record<string, unknown> };
  const spec = (o.spec ??= {});
  spec.username = user.name;
  if (user.uid) spec.uid = user.uid;
  else delete spec.uid;
  spec.groups = [...user.groups];
  delete spec.extra;
}
